//! The desk in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`) driven over WebDriver. An agent, a department manager
//! and the general manager carry one major complaint from registration to
//! closed by clicking, including a rejected first proposal and a follow-up
//! where the customer is not satisfied. Also: no horizontal scrolling at
//! 1366 px and at phone width, and the language switch.

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

/// A ChromeDriver process on a free local port, killed on drop.
pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    pub async fn start() -> Driver {
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (apt-get install chromium-driver); scripts/test installs it");
        // Wait (bounded) until it accepts connections.
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Driver { child, port };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
        panic!("chromedriver did not start on port {port}");
    }

    pub async fn browser(&self, width: u32, height: u32) -> Client {
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
                         "--no-first-run", "--disable-component-update", "--disable-sync", format!("--window-size={width},{height}")],
                "prefs": {"intl.accept_languages": "zh-CN,zh"}
            }
        });
        let caps = caps.as_object().cloned().unwrap_or_default();
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("start a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser on the app, with the steps a person takes.
struct Desk<'a> {
    b: Client,
    app: &'a TestApp,
}

impl Desk<'_> {
    async fn find(&self, css: &str) -> Element {
        self.b
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    async fn go(&self, path: &str) {
        self.b.goto(&self.app.at(path)).await.expect("navigate");
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    async fn login(&self, username: &str) {
        self.go("/login").await;
        self.type_into("#username", username).await;
        self.type_into("#password", PASSWORD).await;
        self.click("#login-submit").await;
        self.find("#logout").await;
    }

    async fn logout(&self) {
        self.click("#logout").await;
        self.find("#login-submit").await;
    }

    /// Unfolds an action form on the complaint page (if folded).
    async fn open_action(&self, key: &str) {
        let details = self.find(&format!("#action-{key}")).await;
        if details.attr("open").await.ok().flatten().is_none() {
            self.click(&format!("#action-{key} > summary")).await;
        }
    }

    async fn submit_action(&self, key: &str) {
        self.click(&format!("#submit-{key}")).await;
    }

    async fn expect_state(&self, state: &str) {
        let css = format!("#state[data-state='{state}']");
        if self
            .b
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(&css))
            .await
            .is_err()
        {
            let html = self.b.source().await.unwrap_or_default();
            let excerpt: String = html
                .chars()
                .filter(|c| !c.is_control())
                .take(3000)
                .collect();
            panic!("expected state {state}; page: {excerpt}");
        }
    }

    async fn open_complaint(&self, number: &str) {
        self.go(&format!("/complaints/{number}")).await;
        self.find("#number").await;
    }

    async fn no_horizontal_scroll(&self, what: &str) {
        let v = self
            .b
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth]",
                vec![],
            )
            .await
            .expect("measure");
        let (scroll, inner) = (v[0].as_i64().unwrap_or(0), v[1].as_i64().unwrap_or(0));
        assert!(
            scroll <= inner,
            "{what}: page is {scroll}px wide in a {inner}px window"
        );
    }
}

async fn contact_and_propose(d: &Desk<'_>, measures: &str, compensation: &str) {
    d.open_action("contacts").await;
    d.select("#contacts-method", "phone").await;
    d.type_into("#contacts-summary", "已致电客户，约定到店检查")
        .await;
    d.submit_action("contacts").await;
    d.expect_state("in_progress").await;
    d.open_action("proposals").await;
    d.type_into("#proposals-measures", measures).await;
    d.type_into("#proposals-compensation_yuan", compensation)
        .await;
    d.submit_action("proposals").await;
    d.expect_state("proposed").await;
}

async fn answer(d: &Desk<'_>, round: u32, accepted: bool, words: &str) {
    let key = format!("answer-{round}");
    d.open_action(&key).await;
    d.select(
        &format!("#{key}-accepted"),
        if accepted { "true" } else { "false" },
    )
    .await;
    d.type_into(&format!("#{key}-customer_words"), words).await;
    d.submit_action(&key).await;
}

async fn approve(d: &Desk<'_>, number: &str) {
    d.login("gm1").await;
    d.open_complaint(number).await;
    d.open_action("approvals").await;
    d.select("#approvals-approved", "true").await;
    d.submit_action("approvals").await;
    d.expect_state("executing").await;
    d.logout().await;
}

async fn execute_and_feed_back(d: &Desk<'_>) {
    d.open_action("execution").await;
    d.type_into("#execution-progress", "已更换刹车盘并试车确认")
        .await;
    d.click("#execution-completed").await;
    d.submit_action("execution").await;
    d.find("#action-feedback").await;
    d.open_action("feedback").await;
    d.select("#feedback-method", "phone").await;
    d.type_into("#feedback-content", "已电话告知处理结果").await;
    d.submit_action("feedback").await;
    d.expect_state("fed_back").await;
}

kesu_storage::both_backends!(
    async fn a_major_complaint_is_carried_from_registration_to_closed_by_clicking(
        backend: Backend,
    ) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let driver = Driver::start().await;
        let d = Desk {
            b: driver.browser(1366, 900).await,
            app: &app,
        };

        // The agent registers a call, keyboard first: phone, Enter, then the form.
        d.login("agent1").await;
        d.go("/complaints/new").await;
        d.type_into("#lookup-phone", "13912345678\n").await;
        d.find("#customer_name").await;
        d.type_into("#customer_name", "刘先生").await;
        d.type_into(
            "#description",
            "新车刹车异响，已经第三次返修还是没修好，要求赔偿误工费，否则就去12315投诉",
        )
        .await;
        d.type_into("#restatement", "客户反映刹车异响，三次返修未果，要求赔偿")
            .await;
        d.type_into("#plate", "苏A12345").await;
        d.select("#category", "repair_quality").await;
        d.select("#severity", "major").await;
        d.click("input[name=signals][value=compensation]").await;
        d.click("input[name=signals][value=repeat_fault]").await;
        let photo = std::env::temp_dir().join(format!(
            "kesu-photo-{}-{}.png",
            std::process::id(),
            app.backend_name()
        ));
        std::fs::write(&photo, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("write photo");
        d.find("#files")
            .await
            .send_keys(&photo.to_string_lossy())
            .await
            .expect("choose photo");
        d.click("#register-submit").await;
        d.expect_state("registered").await;
        let files = d
            .find("#attachments")
            .await
            .text()
            .await
            .unwrap_or_default();
        assert!(
            files.contains("kesu-photo-"),
            "the photo is stored with the complaint: {files}"
        );
        let _ = std::fs::remove_file(&photo);
        let number = d.find("#number").await.text().await.expect("number");
        assert!(number.starts_with("KS-"), "{number}");
        let notice = d.find("#notice").await.text().await.expect("notice");
        assert!(
            notice.contains(&number),
            "the acknowledgement names the number: {notice}"
        );
        d.no_horizontal_scroll("complaint page at 1366 px").await;

        d.open_action("dispatch").await;
        d.select("#dispatch-department", "service").await;
        d.select("#dispatch-assignee", "mgr_service").await;
        d.submit_action("dispatch").await;
        d.expect_state("dispatched").await;
        d.logout().await;

        // The service manager contacts, proposes; the customer rejects the first proposal.
        d.login("mgr_service").await;
        d.go("/complaints?queue=mine").await;
        d.click(&format!("a[href='/complaints/{number}']")).await;
        d.find("#number").await;
        contact_and_propose(&d, "免费检修刹车系统", "0").await;
        answer(&d, 1, false, "只检修不行，要求赔偿误工费").await;
        d.expect_state("in_progress").await;
        d.open_action("proposals").await;
        d.type_into("#proposals-measures", "更换刹车盘，补偿误工费")
            .await;
        d.type_into("#proposals-compensation_yuan", "800").await;
        d.submit_action("proposals").await;
        d.expect_state("proposed").await;
        answer(&d, 2, true, "同意此方案").await;
        d.expect_state("awaiting_approval").await;
        // The manager may not approve: the form is not offered.
        assert!(
            d.b.find(Locator::Css("#action-approvals")).await.is_err(),
            "only the general manager approves"
        );
        d.logout().await;

        approve(&d, &number).await;

        // Execution needs the signed agreement: upload it, then complete.
        d.login("mgr_service").await;
        d.open_complaint(&number).await;
        let pdf = std::env::temp_dir().join(format!(
            "kesu-agreement-{}-{}.pdf",
            std::process::id(),
            app.backend_name()
        ));
        std::fs::write(&pdf, b"%PDF-1.4\n% signed agreement\n").expect("write pdf");
        d.open_action("attachments").await;
        d.select("#attachments-kind", "agreement").await;
        d.find("#attachments-file")
            .await
            .send_keys(&pdf.to_string_lossy())
            .await
            .expect("choose file");
        d.submit_action("attachments").await;
        // Wait for the page that lists the agreement (the registration photo
        // is listed already, so "any link" would not wait for the upload).
        d.b.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath("//section[@id='attachments']//a[contains(., 'kesu-agreement')] | //div[@id='attachments']//a[contains(., 'kesu-agreement')]"))
            .await
            .expect("the agreement is listed");
        execute_and_feed_back(&d).await;
        d.logout().await;

        // Follow-up: not satisfied reopens the complaint.
        d.login("agent1").await;
        d.open_complaint(&number).await;
        d.open_action("follow-ups").await;
        d.select("#follow-ups-outcome", "not_satisfied").await;
        d.select("#follow-ups-score", "2").await;
        d.type_into("#follow-ups-comment", "刹车还是有轻微异响")
            .await;
        d.submit_action("follow-ups").await;
        d.expect_state("reopened").await;
        d.logout().await;

        d.login("mgr_service").await;
        d.open_complaint(&number).await;
        contact_and_propose(&d, "更换整套刹车总成", "800").await;
        answer(&d, 3, true, "可以").await;
        d.expect_state("awaiting_approval").await;
        d.logout().await;
        approve(&d, &number).await;
        d.login("mgr_service").await;
        d.open_complaint(&number).await;
        execute_and_feed_back(&d).await;
        d.logout().await;

        d.login("agent1").await;
        d.open_complaint(&number).await;
        d.open_action("follow-ups").await;
        d.select("#follow-ups-outcome", "satisfied").await;
        d.select("#follow-ups-score", "5").await;
        d.submit_action("follow-ups").await;
        d.expect_state("follow_up").await;
        d.open_action("close").await;
        d.submit_action("close").await;
        d.expect_state("closed").await;

        // The timeline tells the whole story.
        let kinds: Vec<String> = {
            let items =
                d.b.find_all(Locator::Css("#timeline li"))
                    .await
                    .expect("timeline");
            let mut out = Vec::new();
            for li in items {
                out.push(
                    li.attr("data-kind")
                        .await
                        .ok()
                        .flatten()
                        .unwrap_or_default(),
                );
            }
            out
        };
        for expected in [
            "registered",
            "classified",
            "dispatched",
            "handling_started",
            "contact_logged",
            "proposed",
            "proposal_answered",
            "approval_decided",
            "attachment_added",
            "execution_recorded",
            "fed_back",
            "followed_up",
            "closed",
        ] {
            assert!(
                kinds.iter().any(|k| k == expected),
                "timeline lacks {expected}: {kinds:?}"
            );
        }
        assert_eq!(
            kinds.iter().filter(|k| *k == "proposed").count(),
            3,
            "three proposal rounds: {kinds:?}"
        );
        assert!(
            kinds.iter().any(|k| k == "reopened")
                || kinds.iter().filter(|k| *k == "followed_up").count() == 2
        );
        // And the API agrees.
        let api = app.complaint("agent1", &number).await;
        assert_eq!(api["state"], "closed");
        assert_eq!(api["severity"], "major");

        d.b.close().await.expect("close browser");
        let _ = std::fs::remove_file(pdf);
        app.stop().await;
    }
);

kesu_storage::both_backends!(
    async fn pages_fit_a_laptop_and_a_phone_and_switch_language(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        let number = app.create_complaint("agent1", json!({})).await["number"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let driver = Driver::start().await;
        for (w, h) in [(1366, 800), (420, 860)] {
            let d = Desk {
                b: driver.browser(w, h).await,
                app: &app,
            };
            d.login("agent1").await;
            for path in [
                "/complaints?queue=team",
                "/complaints/new",
                &format!("/complaints/{number}"),
            ] {
                d.go(path).await;
                d.find("main").await;
                d.no_horizontal_scroll(&format!("{path} at {w}px")).await;
            }
            // Chinese by default; the switch turns the page to English and back.
            d.go("/complaints?queue=team").await;
            let title = d.find("h1").await.text().await.unwrap_or_default();
            assert_eq!(title, "全部投诉");
            d.click("#lang-switch").await;
            d.b.wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::XPath("//h1[text()='All complaints']"))
                .await
                .expect("English page");
            d.click("#lang-switch").await;
            d.b.wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::XPath("//h1[text()='全部投诉']"))
                .await
                .expect("Chinese page");
            d.b.close().await.expect("close browser");
        }
        app.stop().await;
    }
);
