//! The closed vocabularies of the process. One word per idea: each code is
//! spelled the same in SQL, Rust, JSON and the translation catalogs.

use serde::{Deserialize, Serialize};

/// An unknown code was given where one of a closed set was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} code {value:?}")]
pub struct UnknownCode {
    pub kind: &'static str,
    pub value: String,
}

macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident, $kind:literal { $($(#[$vdoc:meta])* $variant:ident = $code:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),* }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stable code used in storage, JSON and catalogs.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),* }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, UnknownCode> {
                match s {
                    $($code => Ok($name::$variant),)*
                    _ => Err(UnknownCode { kind: $kind, value: s.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

code_enum!(
    /// Where a complaint is in its lifecycle (SPEC "Lifecycle").
    State, "state" {
        /// 受理: taken in by a channel or another department, not yet registered by customer service.
        Received = "received",
        /// 登记: registered on the feedback form by customer service.
        Registered = "registered",
        /// 分派: handed to the responsible department.
        Dispatched = "dispatched",
        /// 处理中: the responsible person is working on it.
        InProgress = "in_progress",
        /// 方案协商: a resolution is proposed to the customer.
        Proposed = "proposed",
        /// 审批: the accepted plan waits for the general manager.
        AwaitingApproval = "awaiting_approval",
        /// 执行: the agreed plan is being carried out.
        Executing = "executing",
        /// 结果反馈: the result was reported to the customer.
        FedBack = "fed_back",
        /// 回访: the follow-up visit is under way or done.
        FollowUp = "follow_up",
        /// 结案
        Closed = "closed",
        /// 重新下发: the customer was not satisfied; handled again.
        Reopened = "reopened",
        /// 合并: a duplicate, merged into another complaint.
        Merged = "merged",
        /// 撤诉: withdrawn by the customer.
        Withdrawn = "withdrawn",
        /// 驳回: rejected as invalid, with a reason.
        Rejected = "rejected",
    }
);

impl State {
    /// A terminal state takes no more lifecycle actions (only reopen from closed).
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            State::Closed | State::Merged | State::Withdrawn | State::Rejected
        )
    }
}

code_enum!(
    /// The channel a complaint came in by (R-IN-1).
    Channel, "channel" {
        Phone = "phone",
        WalkIn = "walk_in",
        Email = "email",
        Web = "web",
        App = "app",
        Wechat = "wechat",
        Weibo = "weibo",
        Letter = "letter",
        /// Forwarded by 12315, 市场监管, a financial regulator, 12345 …
        Regulator = "regulator",
        /// Forwarded by a newspaper, TV station or self-media.
        Media = "media",
    }
);

code_enum!(
    /// 一般 / 重大 (R-CL-2).
    Severity, "severity" {
        General = "general",
        Major = "major",
    }
);

code_enum!(
    /// What makes a complaint major (R-CL-2, corpus SCHEMA).
    Signal, "signal" {
        Compensation = "compensation",
        Safety = "safety",
        LargeLoss = "large_loss",
        RepeatFault = "repeat_fault",
        Media = "media",
        Legal = "legal",
        Police = "police",
        ConsumerAssoc = "consumer_assoc",
        Regulator = "regulator",
        Extreme = "extreme",
    }
);

code_enum!(
    /// A staff role (SPEC "Who uses it").
    Role, "role" {
        /// 客服专员: registers, classifies, dispatches, follows up, closes.
        Agent = "agent",
        /// 部门经理: owns complaints dispatched to their department.
        Manager = "manager",
        /// 总经理: approves, may take a case over.
        Gm = "gm",
        /// 综合部 / 督导: watches timeliness and compliance.
        Supervisor = "supervisor",
        /// 管理员: configures.
        Admin = "admin",
    }
);

code_enum!(
    /// How the customer was reached (R-HD-3, R-FB-1).
    ContactMethod, "contact_method" {
        Phone = "phone",
        Visit = "visit",
        Sms = "sms",
        Email = "email",
        Wechat = "wechat",
    }
);

code_enum!(
    /// The result of a follow-up visit (R-FB-2).
    FollowUpOutcome, "follow_up_outcome" {
        Satisfied = "satisfied",
        NotSatisfied = "not_satisfied",
        /// The customer could not be reached; the visit is tried again.
        Unreachable = "unreachable",
    }
);

code_enum!(
    /// What a stored file is for.
    AttachmentKind, "attachment_kind" {
        Evidence = "evidence",
        /// The written agreement signed with the customer (R-HD-9).
        Agreement = "agreement",
        Other = "other",
    }
);

code_enum!(
    /// A deadline a complaint must keep (R-IN-5, R-CL-4, R-HD-1/3/4/11/12, R-FB-2).
    ClockKind, "clock" {
        /// 转交登记: registered within 30 minutes of being taken in elsewhere (R-IN-5).
        Register = "register",
        /// 分类: classified within 30 minutes of receipt (R-CL-4).
        Classify = "classify",
        /// 分派: dispatched within 30 minutes (R-HD-1).
        Dispatch = "dispatch",
        /// 首次联系: the responsible manager calls the customer within 2 hours of dispatch (R-HD-3).
        FirstContact = "first_contact",
        /// 初步答复: an initial response within 24 hours (R-HD-4).
        InitialReply = "initial_reply",
        /// 进度报告: not resolved after 3 working days: a progress report (R-HD-11).
        ProgressReport = "progress_report",
        /// 解决: resolved within 72 hours (R-HD-11).
        Resolve = "resolve",
        /// 结果反馈: the result reported back the same day (R-HD-12).
        ReportBack = "report_back",
        /// 回访: the follow-up visit between day 5 and day 7 after the result (R-FB-2).
        FollowUp = "follow_up",
        /// 值班通报: an urgent complaint outside working time reaches the
        /// on-duty leader at once (R-IN-6). Not a deadline: it tells and ends.
        DutyAlert = "duty_alert",
        /// 转办答复: the reply a forwarding body (12315, 市场监管, the press …)
        /// asked for by its own date, given at registration.
        RegulatorReply = "regulator_reply",
    }
);

code_enum!(
    /// Who forwarded a case to the desk (R-IN-1): 全国12315平台, 市场监管局,
    /// 消费者协会, 金融监管（银保监）, 12345 热线／信访, 报纸／电视.
    ForwardingBody, "forwarding_body" {
        Platform12315 = "12315",
        MarketRegulator = "market_regulator",
        ConsumerAssoc = "consumer_assoc",
        FinancialRegulator = "financial_regulator",
        Hotline12345 = "hotline_12345",
        Media = "media",
    }
);

impl ForwardingBody {
    /// The channel a case forwarded by this body came in on.
    pub const fn channel(self) -> Channel {
        match self {
            ForwardingBody::Media => Channel::Media,
            _ => Channel::Regulator,
        }
    }

    /// The major signal it sets (R-CL-2: forwarded by a regulator, a
    /// consumer association or the press).
    pub const fn signal(self) -> Signal {
        match self {
            ForwardingBody::ConsumerAssoc => Signal::ConsumerAssoc,
            ForwardingBody::Media => Signal::Media,
            _ => Signal::Regulator,
        }
    }
}

code_enum!(
    /// What starts or stops a clock: a step of the lifecycle.
    Trigger, "trigger" {
        /// The complaint came in, by any channel or department.
        Receipt = "receipt",
        /// It came in somewhere other than customer service (state `received`).
        TakenIn = "taken_in",
        /// Customer service completed the registration of a received complaint.
        Registered = "registered",
        /// A category was confirmed.
        Classified = "classified",
        Dispatched = "dispatched",
        /// The customer was contacted (contact log).
        ContactLogged = "contact_logged",
        /// Execution of the agreed measures was completed.
        ExecutionCompleted = "execution_completed",
        /// The result was fed back to the customer.
        FedBack = "fed_back",
        FollowedUp = "followed_up",
        Reopened = "reopened",
    }
);

code_enum!(
    /// Who is told when a deadline is breached, step by step up the ladder.
    Rung, "rung" {
        /// The person the complaint is assigned to.
        Owner = "owner",
        /// The manager(s) of the responsible department.
        DepartmentManager = "department_manager",
        Supervisor = "supervisor",
        GeneralManager = "general_manager",
        /// Customer service (agents), for clocks before dispatch.
        CustomerService = "customer_service",
        /// The leader on duty by the roster (R-OR-3); the site's general
        /// managers when nobody is on the roster.
        OnDuty = "on_duty",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_code_parses_back_to_itself() {
        for s in State::ALL {
            assert_eq!(s.as_str().parse::<State>(), Ok(*s));
        }
        assert!("open".parse::<State>().is_err());
    }

    #[test]
    fn serde_uses_the_same_codes_as_storage() {
        assert_eq!(
            serde_json::to_string(&State::AwaitingApproval)
                .ok()
                .as_deref(),
            Some("\"awaiting_approval\"")
        );
        assert_eq!(
            serde_json::to_string(&Channel::WalkIn).ok().as_deref(),
            Some("\"walk_in\"")
        );
    }
}
