//! Form descriptions rendered by `templates/form.html`: the detail page's
//! action forms and the admin forms are data, so one template draws them all.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Hidden,
    Text,
    Number,
    DateTime,
    TextArea,
    Select,
    /// Several checkboxes sharing a name.
    Checks,
    Checkbox,
    File,
}

#[derive(Debug, Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Opt {
        Opt {
            value: value.into(),
            label: label.into(),
            selected: false,
        }
    }

    pub fn selected_if(mut self, cond: bool) -> Opt {
        self.selected = cond;
        self
    }
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    pub value: String,
    pub options: Vec<Opt>,
}

impl Field {
    pub fn new(name: &'static str, label: String, kind: FieldKind) -> Field {
        Field {
            name,
            label,
            kind,
            required: false,
            value: String::new(),
            options: Vec::new(),
        }
    }

    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    pub fn value(mut self, v: impl Into<String>) -> Field {
        self.value = v.into();
        self
    }

    pub fn options(mut self, o: Vec<Opt>) -> Field {
        self.options = o;
        self
    }
}

/// One form: where it posts, what it asks.
#[derive(Debug, Clone)]
pub struct ActionForm {
    /// A stable id (`classify`, `answer-2`, …) for the element ids.
    pub key: String,
    pub title: String,
    pub url: String,
    pub submit: String,
    pub fields: Vec<Field>,
    pub multipart: bool,
    /// Shown unfolded (the likely next step).
    pub open: bool,
}
