//! The holiday files compiled into kesu (`data/holiday-cn/`, MIT, from
//! NateScarlet/holiday-cn), parsed once on first use.

use std::sync::{Arc, LazyLock};

use crate::holidays::{HolidayTable, YearSchedule};

/// (year, file text) for every shipped year. To ship a new year, add its file
/// to `data/holiday-cn/` and a line here.
pub(crate) const FILES: &[(i16, &str)] = &[
    (2007, include_str!("../data/holiday-cn/2007.json")),
    (2008, include_str!("../data/holiday-cn/2008.json")),
    (2009, include_str!("../data/holiday-cn/2009.json")),
    (2010, include_str!("../data/holiday-cn/2010.json")),
    (2011, include_str!("../data/holiday-cn/2011.json")),
    (2012, include_str!("../data/holiday-cn/2012.json")),
    (2013, include_str!("../data/holiday-cn/2013.json")),
    (2014, include_str!("../data/holiday-cn/2014.json")),
    (2015, include_str!("../data/holiday-cn/2015.json")),
    (2016, include_str!("../data/holiday-cn/2016.json")),
    (2017, include_str!("../data/holiday-cn/2017.json")),
    (2018, include_str!("../data/holiday-cn/2018.json")),
    (2019, include_str!("../data/holiday-cn/2019.json")),
    (2020, include_str!("../data/holiday-cn/2020.json")),
    (2021, include_str!("../data/holiday-cn/2021.json")),
    (2022, include_str!("../data/holiday-cn/2022.json")),
    (2023, include_str!("../data/holiday-cn/2023.json")),
    (2024, include_str!("../data/holiday-cn/2024.json")),
    (2025, include_str!("../data/holiday-cn/2025.json")),
    (2026, include_str!("../data/holiday-cn/2026.json")),
];

static SHIPPED: LazyLock<Arc<HolidayTable>> = LazyLock::new(|| {
    let mut table = HolidayTable::empty();
    // A file that does not parse is left out (its year then shows as not
    // covered) rather than taking the process down; a test checks that every
    // shipped file parses and is filed under its own year.
    for (year, text) in FILES {
        if let Ok(schedule) = YearSchedule::from_holiday_cn_json_for(*year, text) {
            table.insert(schedule);
        }
    }
    Arc::new(table)
});

/// The shipped table, shared.
pub(crate) fn table() -> &'static HolidayTable {
    &SHIPPED
}

/// The shipped table as an `Arc`, the default a [`crate::SiteCalendar`] holds.
pub(crate) fn shared() -> Arc<HolidayTable> {
    Arc::clone(&SHIPPED)
}
