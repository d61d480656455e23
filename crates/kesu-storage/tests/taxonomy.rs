//! Sub-categories from industry templates, their keyword phrases, and the
//! training lease (R-CL-1), on SQLite and PostgreSQL alike.

use kesu_storage::testing::TestDb;
use kesu_storage::{StorageError, both_backends};

fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_000_000).expect("time")
}

both_backends!(
    async fn a_template_adds_its_sub_categories_once_below_the_shipped_ones(backend: Backend) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let first = t.db.load_template("car_dealer", now()).await.expect("load");
        let expected = kesu_storage::templates::TEMPLATES[0].subcategories.len();
        assert!(expected >= 12, "a real set: {expected}");
        assert_eq!(first.subcategories, expected);
        // The admin switches one off and edits another's phrases; loading
        // again adds nothing and changes neither.
        assert!(
            t.db.set_category_active("car_rework", false)
                .await
                .expect("off")
        );
        assert!(
            t.db.set_category_keywords("car_maintenance", &["首保".to_owned()])
                .await
                .expect("edit")
        );
        let again =
            t.db.load_template("car_dealer", now())
                .await
                .expect("again");
        assert_eq!((again.departments, again.subcategories), (0, 0));
        let tree = t.db.categories().await.expect("categories");
        let subs: Vec<_> = tree.iter().filter(|c| c.parent_code.is_some()).collect();
        assert_eq!(subs.len(), expected, "no duplicates");
        for s in &subs {
            let parent = s.parent_code.as_deref().unwrap_or_default();
            assert!(
                kesu_storage::taxonomy::is_shipped_root(parent),
                "{} below {parent}",
                s.code
            );
            assert!(!s.keyword_list().is_empty(), "{} has phrases", s.code);
            assert!(!s.name_zh.is_empty() && !s.name_en.is_empty());
        }
        let gearbox =
            t.db.category("car_engine_gearbox")
                .await
                .expect("read")
                .expect("there");
        assert_eq!(gearbox.parent_code.as_deref(), Some("product_quality"));
        assert!(gearbox.keyword_list().contains(&"变速箱".to_owned()));
        assert_eq!(
            t.db.category("car_maintenance")
                .await
                .expect("read")
                .expect("there")
                .keyword_list(),
            vec!["首保".to_owned()]
        );
        // Only the active ones below a parent are offered for proposing.
        let repair: Vec<String> =
            t.db.active_subcategories("repair_quality")
                .await
                .expect("subs")
                .into_iter()
                .map(|c| c.code)
                .collect();
        assert!(repair.contains(&"car_maintenance".to_owned()));
        assert!(!repair.contains(&"car_rework".to_owned()), "{repair:?}");
        // The supermarket's own come on top; the car dealer's stay.
        let market =
            t.db.load_template("supermarket", now())
                .await
                .expect("market");
        assert_eq!(
            market.subcategories,
            kesu_storage::templates::TEMPLATES[1].subcategories.len()
        );
        assert!(t.db.category("sm_price_tag").await.expect("read").is_some());
        // A taken code is refused and nothing is written.
        let before = t.db.categories().await.expect("categories").len();
        let dup =
            t.db.create_subcategory(
                "sm_price_tag",
                "pricing",
                "又一个",
                "Again",
                &["价签".to_owned()],
            )
            .await;
        assert!(matches!(dup, Err(StorageError::Duplicate(_))), "{dup:?}");
        assert_eq!(t.db.categories().await.expect("categories").len(), before);
        t.drop_async().await;
    }
);

both_backends!(
    async fn one_asker_gets_the_training_lease_until_it_runs_out(backend: Backend) {
        let Some(t) = TestDb::new(backend).await else {
            return;
        };
        let key = "classifier_training_lease";
        assert!(t.db.take_lease(key, 1_000, 601_000).await.expect("take"));
        assert!(!t.db.take_lease(key, 2_000, 602_000).await.expect("held"));
        // Run out: the next asker gets it, once.
        assert!(
            t.db.take_lease(key, 601_001, 1_201_001)
                .await
                .expect("again")
        );
        assert!(
            !t.db
                .take_lease(key, 601_002, 1_201_002)
                .await
                .expect("held")
        );
        // Two asking at the same moment: one wins.
        t.db.set_setting(key, "0").await.expect("free");
        let (a, b) = tokio::join!(
            t.db.take_lease(key, 5_000, 605_000),
            t.db.take_lease(key, 5_000, 605_000)
        );
        assert_eq!(
            [a.expect("a"), b.expect("b")]
                .iter()
                .filter(|x| **x)
                .count(),
            1
        );
        t.drop_async().await;
    }
);
