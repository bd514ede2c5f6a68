//! What a report may show of the repository: the texts of files read through the confined
//! reader ([`RepoFs`]) in this run, with every secret masked ([`Redactor`]). A path named in a
//! message, an origin outside the root or a file that was refused has no source here, so a
//! report shows no line of it.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::report::Finding;
use driftlint_rules::redact::{Redactor, RedactorBuilder};
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::Node;

/// The redacted source texts of one run, by repo-relative path.
#[derive(Clone)]
pub struct Sources {
    fs: RepoFs,
    redactor: Arc<Redactor>,
}

impl fmt::Debug for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sources")
            .field("root", &self.fs.root())
            .finish_non_exhaustive()
    }
}

impl Sources {
    /// The sources of a run over `fs`, redacted with the secrets of `objects` (every rendered
    /// object) and of every file `fs` has read.
    pub fn new<'a>(fs: &RepoFs, objects: impl Iterator<Item = &'a Node>) -> Sources {
        let mut builder = RedactorBuilder::default();
        for obj in objects {
            builder.object(obj);
        }
        for text in fs.texts_read() {
            builder.text(&text);
        }
        Sources {
            fs: fs.clone(),
            redactor: Arc::new(builder.build()),
        }
    }

    /// The redacted text of `file` (repo-relative, as in origins) if this run read it through
    /// the confined reader; `None` otherwise.
    pub fn get(&self, file: &str) -> Option<Arc<str>> {
        let text = self.fs.text_read(file)?;
        Some(match self.redactor.redact(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(masked) => Arc::from(masked),
        })
    }

    /// The redactor of this run.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Masks the secrets in a finding's message and `via` note.
    pub fn redact_finding(&self, f: &mut Finding) {
        if let Cow::Owned(m) = self.redactor.redact(&f.message) {
            f.message = m;
        }
        if let Some(via) = &f.origin.via {
            if let Cow::Owned(v) = self.redactor.redact(via) {
                f.origin.via = Some(Arc::from(v));
            }
        }
    }
}
