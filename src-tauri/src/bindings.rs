//! The TypeScript types of everything the UI sends and receives, generated with ts-rs
//! into `ui/src/bindings`. The test fails when the committed files are stale;
//! `UPDATE_BINDINGS=1 cargo test -p qbconnector-app bindings` writes them anew.

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use ts_rs::TS;

    fn bindings_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings")
    }

    /// Every type crossing the bridge, with what it refers to.
    fn exported() -> BTreeMap<String, String> {
        let dir = tempfile::tempdir().unwrap();
        // 64-bit integers as plain numbers: JSON.parse gives numbers, and ids, versions
        // and timestamps all stay below 2^53.
        let config = ts_rs::Config::new().with_large_int("number").with_out_dir(dir.path());
        macro_rules! export {
            ($($type:ty),* $(,)?) => {$(
                <$type>::export_all(&config).unwrap();
            )*};
        }
        use connector::api::*;
        use connector::sync::*;
        export!(
            InstanceView,
            InstanceChanges,
            connector::instance::NewInstance,
            ConnectionView,
            LookupRow,
            Preview,
            RecordPage,
            RecordStatus,
            RecordField,
            OutcomePage,
            HistoryPage,
            RunPage,
            RecordTrail,
            HomeRun,
            store::OutcomeFilter,
            store::RunFilter,
            TestOutcome,
            RulesPreview,
            MappingFields,
            connector::spec::Pick,
            ConflictView,
            ConflictRow,
            ConflictRowKind,
            SameEntityChoice,
            HomeView,
            SetupView,
            ProblemGroup,
            CompanyRecord,
            Side,
            connector::error::ApiError,
            connector::spec::Spec,
            connector::spec::Issue,
            connector::spec::customize::Difference,
            connector::platform::Record,
            connector::platform::Module,
            connector::platform::exchange::ImportReport,
            Direction,
            Trigger,
            Phase,
            Outcome,
            RecordOp,
            RunOutcome,
            Progress,
            RunSummary,
            PlanView,
            Schedule,
            ScheduleView,
            store::RunRow,
            store::RecordOutcome,
            PlatformLinkView,
            PlatformTest,
            ProfileSummary,
            ProfilePreview,
            connector::platform::link::PlatformLink,
            connector::platform::link::PlatformSecret,
            connector::platform::profile::ProfileProblem,
            crate::commands::PreviewInput,
            crate::events::SyncProgressEvent,
            crate::events::SyncFinishedEvent,
            crate::events::ConnectionChangedEvent,
            crate::events::InstancesChangedEvent,
            crate::events::OpenScreenEvent,
            crate::events::AppInfo,
            crate::events::ConnectStart,
        );
        let mut files = BTreeMap::new();
        for entry in walk(dir.path()) {
            let relative = entry.strip_prefix(dir.path()).unwrap().to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&entry).unwrap();
            files.insert(relative, text);
        }
        files
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                found.extend(walk(&path));
            } else if path.extension().is_some_and(|e| e == "ts") {
                found.push(path);
            }
        }
        found
    }

    #[test]
    fn bindings_are_fresh() {
        let expected = exported();
        let dir = bindings_dir();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            let _ = std::fs::remove_dir_all(&dir);
            for (file, text) in &expected {
                let path = dir.join(file);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            return;
        }
        let committed: BTreeMap<String, String> = if dir.exists() {
            walk(&dir)
                .into_iter()
                .map(|path| {
                    let relative = path.strip_prefix(&dir).unwrap().to_string_lossy().replace('\\', "/");
                    (relative, std::fs::read_to_string(&path).unwrap())
                })
                .collect()
        } else {
            BTreeMap::new()
        };
        let stale: Vec<&String> = expected
            .keys()
            .chain(committed.keys())
            .filter(|file| expected.get(*file) != committed.get(*file))
            .collect();
        assert!(
            stale.is_empty(),
            "ui/src/bindings is stale ({stale:?}); run UPDATE_BINDINGS=1 cargo test -p qbconnector-app bindings"
        );
    }
}
