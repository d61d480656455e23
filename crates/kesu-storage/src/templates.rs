//! Industry templates (R-OR-2): starting organisations an admin loads in one
//! step and edits afterwards. A template only adds what is missing, so
//! loading it twice changes nothing.

use jiff::Timestamp;
use kesu_domain::SiteId;

use crate::{Db, Result, StorageError};

/// A template: its code and its departments (code, 中文 name).
pub struct Template {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub departments: &'static [(&'static str, &'static str)],
}

/// The shipped templates.
pub const TEMPLATES: &[Template] = &[
    Template {
        code: "car_dealer",
        name_zh: "汽车经销商（4S 店）",
        name_en: "Car dealer",
        departments: &[
            ("cs", "客户部"),
            ("sales", "销售部"),
            ("service", "售后服务部"),
            ("parts", "备品部"),
            ("finance", "财务部"),
            ("general", "综合部"),
        ],
    },
    Template {
        code: "supermarket",
        name_zh: "超市",
        name_en: "Supermarket",
        departments: &[
            ("cs", "客服中心"),
            ("front_desk", "前台"),
            ("procurement", "采购部"),
            ("warehouse", "仓储部"),
            ("sales_floor", "销售部"),
            ("general", "综合部"),
        ],
    },
];

impl Db {
    /// Loads a template into the first site; returns how many departments it added.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] for an unknown template or a database without a site.
    pub async fn load_template(&self, code: &str, now: Timestamp) -> Result<usize> {
        let template = TEMPLATES
            .iter()
            .find(|t| t.code == code)
            .ok_or_else(|| StorageError::Corrupt(format!("unknown template {code:?}")))?;
        self.bootstrap(now).await?;
        let site = self
            .sites()
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StorageError::Corrupt("no site".into()))?;
        let mut added = 0;
        for (dept, name) in template.departments {
            if self.department_by_code(dept).await?.is_none() {
                self.create_department(SiteId(site.id), dept, name, now)
                    .await?;
                added += 1;
            }
        }
        Ok(added)
    }
}
