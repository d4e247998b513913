//! Tauri's build step, with the app's commands declared so that capabilities can grant
//! exactly the ones the UI calls (an undeclared command is refused at run time).

const COMMANDS: &[&str] = &[
    "app_info",
    "instances",
    "instance_name_free",
    "activate_instance",
    "start_demo",
    "update_instance",
    "remove_instance",
    "lookups",
    "set_lookup",
    "remove_lookup",
    "set_schedule",
    "schedule_status",
    "autostart_enabled",
    "set_autostart",
    "connect",
    "connection",
    "disconnect",
    "spec",
    "check_spec",
    "save_spec",
    "reset_spec",
    "spec_diff",
    "preview",
    "test_mapping",
    "preview_rules",
    "mapping_fields",
    "pick_expression",
    "read_picks",
    "records",
    "create_record",
    "update_record",
    "delete_record",
    "import_csv",
    "export_csv",
    "plan",
    "sync",
    "running_syncs",
    "cancel_sync",
    "runs",
    "run_records",
    "retry_failed",
    "resync",
    "unlink",
    "conflicts",
    "home",
    "resolve_conflict",
    "resolve_same_entity",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("the Tauri build step failed");
}
