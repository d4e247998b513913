// Every command of the shell, typed by the generated bindings. The UI calls the shell
// only through here.

import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { ApiError } from './bindings/ApiError';
import type { AppInfo } from './bindings/AppInfo';
import type { CompanyRecord } from './bindings/CompanyRecord';
import type { ConflictView } from './bindings/ConflictView';
import type { ConnectStart } from './bindings/ConnectStart';
import type { ConnectionChangedEvent } from './bindings/ConnectionChangedEvent';
import type { ConnectionView } from './bindings/ConnectionView';
import type { Difference } from './bindings/Difference';
import type { Direction } from './bindings/Direction';
import type { HistoryPage } from './bindings/HistoryPage';
import type { HomeRun } from './bindings/HomeRun';
import type { HomeView } from './bindings/HomeView';
import type { ImportReport } from './bindings/ImportReport';
import type { InstanceChanges } from './bindings/InstanceChanges';
import type { InstanceView } from './bindings/InstanceView';
import type { Issue } from './bindings/Issue';
import type { LookupRow } from './bindings/LookupRow';
import type { MappingFields } from './bindings/MappingFields';
import type { MethodName } from './bindings/MethodName';
import type { Module } from './bindings/Module';
import type { NewInstance } from './bindings/NewInstance';
import type { OpenScreenEvent } from './bindings/OpenScreenEvent';
import type { OutcomeFilter } from './bindings/OutcomeFilter';
import type { OutcomePage } from './bindings/OutcomePage';
import type { Pick } from './bindings/Pick';
import type { PlatformLink } from './bindings/PlatformLink';
import type { PlatformLinkView } from './bindings/PlatformLinkView';
import type { PlatformSecret } from './bindings/PlatformSecret';
import type { PlatformTest } from './bindings/PlatformTest';
import type { ProfilePreview } from './bindings/ProfilePreview';
import type { ProfileProblem } from './bindings/ProfileProblem';
import type { ProfileSummary } from './bindings/ProfileSummary';
import type { PlanView } from './bindings/PlanView';
import type { Preview } from './bindings/Preview';
import type { PreviewInput } from './bindings/PreviewInput';
import type { Record as PlatformRecord } from './bindings/Record';
import type { ProblemGroup } from './bindings/ProblemGroup';
import type { RecordField } from './bindings/RecordField';
import type { RecordPage } from './bindings/RecordPage';
import type { RecordStatus } from './bindings/RecordStatus';
import type { RecordTrail } from './bindings/RecordTrail';
import type { RulesPreview } from './bindings/RulesPreview';
import type { RunFilter } from './bindings/RunFilter';
import type { RunPage } from './bindings/RunPage';
import type { RunRow } from './bindings/RunRow';
import type { RunSummary } from './bindings/RunSummary';
import type { SameEntityChoice } from './bindings/SameEntityChoice';
import type { Schedule } from './bindings/Schedule';
import type { ScheduleView } from './bindings/ScheduleView';
import type { SetupView } from './bindings/SetupView';
import type { Side } from './bindings/Side';
import type { Spec } from './bindings/Spec';
import type { SyncFinishedEvent } from './bindings/SyncFinishedEvent';
import type { SyncProgressEvent } from './bindings/SyncProgressEvent';
import type { TestOutcome } from './bindings/TestOutcome';
import type { JsonValue } from './bindings/serde_json/JsonValue';

export type { ApiError, InstanceView, Module, MethodName, Spec, PlatformRecord };

/** Whether a rejection is the shell's error (and not, say, a bug in the UI). */
export function isApiError(value: unknown): value is ApiError {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}

/** Any rejection as an ApiError, so screens have one shape to show. */
export function asApiError(value: unknown): ApiError {
  if (isApiError(value)) return value;
  return { code: 'storage', message: value instanceof Error ? value.message : String(value), detail: null };
}

const call = <T>(command: string, args?: Record<string, unknown>) => invoke<T>(command, args);

export const api = {
  appInfo: () => call<AppInfo>('app_info'),
  instances: () => call<InstanceView[]>('instances'),
  instanceNameFree: (name: string) => call<boolean>('instance_name_free', { name }),
  activateInstance: (instance: NewInstance, clientSecret: string | null) =>
    call<InstanceView>('activate_instance', { instance, clientSecret }),
  startDemo: () => call<InstanceView>('start_demo'),
  updateInstance: (name: string, changes: InstanceChanges) => call<InstanceView>('update_instance', { name, changes }),
  removeInstance: (name: string) => call<null>('remove_instance', { name }),
  lookups: (name: string) => call<LookupRow[]>('lookups', { name }),
  setLookup: (name: string, row: LookupRow) => call<null>('set_lookup', { name, row }),
  removeLookup: (name: string, lookup: string, platformValue: string) =>
    call<null>('remove_lookup', { name, lookup, platformValue }),
  setSchedule: (name: string, schedule: Schedule) => call<InstanceView>('set_schedule', { name, schedule }),
  scheduleStatus: (name: string) => call<ScheduleView>('schedule_status', { name }),
  autostartEnabled: () => call<boolean>('autostart_enabled'),
  setAutostart: (enabled: boolean) => call<boolean>('set_autostart', { enabled }),
  connect: (name: string) => call<ConnectStart>('connect', { name }),
  connection: (name: string) => call<ConnectionView>('connection', { name }),
  disconnect: (name: string) => call<null>('disconnect', { name }),
  spec: (name: string) => call<Spec>('spec', { name }),
  checkSpec: (spec: Spec) => call<Issue[]>('check_spec', { spec }),
  saveSpec: (name: string, spec: Spec) => call<Issue[]>('save_spec', { name, spec }),
  resetSpec: (name: string) => call<null>('reset_spec', { name }),
  specDiff: (name: string, spec: Spec | null) => call<Difference[]>('spec_diff', { name, spec }),
  preview: (name: string, module: string, method: MethodName, source: PreviewInput, spec: Spec | null) =>
    call<Preview>('preview', { name, module, method, source, spec }),
  /** Each rule's value (or why it fails) for one platform record, with the spec as edited. */
  previewRules: (name: string, module: string, method: MethodName, recordId: string, spec: Spec) =>
    call<RulesPreview>('preview_rules', { name, module, method, recordId, spec }),
  mappingFields: (spec: Spec, module: string, method: MethodName) =>
    call<MappingFields>('mapping_fields', { spec, module, method }),
  /** The jq a pick stands for, as the connector writes it. */
  pickExpression: (pick: Pick) => call<string>('pick_expression', { pick }),
  readPicks: (expressions: string[]) => call<(Pick | null)[]>('read_picks', { expressions }),
  testMapping: (name: string, module: string, method: MethodName, recordId: string, spec: Spec | null) =>
    call<TestOutcome>('test_mapping', { name, module, method, recordId, spec }),
  records: (module: Module, search: string, offset: number, limit: number) =>
    call<RecordPage>('records', { module, search, offset, limit }),
  createRecord: (module: Module, data: JsonValue) => call<PlatformRecord>('create_record', { module, data }),
  updateRecord: (module: Module, id: string, data: JsonValue, version: number) =>
    call<PlatformRecord>('update_record', { module, id, data, version }),
  deleteRecord: (module: Module, id: string) => call<PlatformRecord>('delete_record', { module, id }),
  /** The module's schema, objects and lines with their fields: what the record form is built from. */
  recordFields: (module: Module) => call<RecordField[]>('record_fields', { module }),
  /** The names lists show of a module's records by id, as [id, name]; unknown ids left out. */
  recordNames: (module: Module, ids: string[]) => call<[string, string][]>('record_names', { module, ids }),
  /** Where each record stands with the instance's company: in QuickBooks, not sent, or a conflict. */
  recordStatus: (name: string, module: Module, ids: string[]) => call<RecordStatus[]>('record_status', { name, module, ids }),
  importCsv: (module: Module, text: string) => call<ImportReport>('import_csv', { module, text }),
  exportCsv: (module: Module) => call<string>('export_csv', { module }),
  plan: (name: string, modules: string[] | null) => call<PlanView[]>('plan', { name, modules }),
  sync: (name: string, direction: Direction, modules: string[] | null) =>
    call<RunSummary>('sync', { name, direction, modules }),
  runningSyncs: () => call<string[]>('running_syncs'),
  cancelSync: (name: string) => call<boolean>('cancel_sync', { name }),
  runs: (name: string, limit: number) => call<RunRow[]>('runs', { name, limit }),
  runRecords: (name: string, runId: number, onlyProblems: boolean, offset: number, limit: number) =>
    call<OutcomePage>('run_records', { name, runId, onlyProblems, offset, limit }),
  historyRuns: (name: string, filter: RunFilter, offset: number, limit: number) =>
    call<RunPage>('history_runs', { name, filter, offset, limit }),
  historyRecords: (name: string, runId: number, filter: OutcomeFilter, offset: number, limit: number) =>
    call<HistoryPage>('history_records', { name, runId, filter, offset, limit }),
  runCounts: (name: string, runId: number) => call<HomeRun>('run_counts', { name, runId }),
  recordTrail: (name: string, module: string, platformId: string) =>
    call<RecordTrail>('record_trail', { name, module, platformId }),
  runReportCsv: (name: string, runId: number, filter: OutcomeFilter) =>
    call<string>('run_report_csv', { name, runId, filter }),
  openInQuickbooks: (name: string, module: string, qboId: string) =>
    call<null>('open_in_quickbooks', { name, module, qboId }),
  retryFailed: (name: string, runId: number) => call<RunSummary>('retry_failed', { name, runId }),
  resync: (name: string, module: string, platformId: string) => call<RunSummary>('resync', { name, module, platformId }),
  unlink: (name: string, module: string, platformId: string) => call<null>('unlink', { name, module, platformId }),
  conflicts: (name: string) => call<ConflictView[]>('conflicts', { name }),
  home: (name: string) => call<HomeView>('home', { name }),
  setup: (name: string) => call<SetupView>('setup', { name }),
  runProblems: (name: string, runId: number) => call<ProblemGroup[]>('run_problems', { name, runId }),
  companyRecords: (name: string, variable: string) => call<CompanyRecord[]>('company_records', { name, variable }),
  lookupRecords: (name: string, lookup: string) => call<CompanyRecord[]>('lookup_records', { name, lookup }),
  resolveConflict: (name: string, conflictId: number, choices: Record<string, Side>) =>
    call<RunSummary>('resolve_conflict', { name, conflictId, choices }),
  resolveSameEntity: (name: string, conflictId: number, choice: SameEntityChoice) =>
    call<RunSummary>('resolve_same_entity', { name, conflictId, choice }),
  platformLink: (name: string) => call<PlatformLinkView>('platform_link', { name }),
  setPlatformLink: (name: string, link: PlatformLink, secrets: Partial<Record<PlatformSecret, string>>) =>
    call<PlatformLinkView>('set_platform_link', { name, link, secrets }),
  testPlatform: (name: string) => call<PlatformTest>('test_platform', { name }),
  platformProfiles: () => call<ProfileSummary[]>('platform_profiles'),
  checkProfile: (text: string) => call<ProfileProblem[]>('check_profile', { text }),
  previewProfile: (text: string, module: Module, record: string) =>
    call<ProfilePreview>('preview_profile', { text, module, record }),
  readPlatform: (name: string, whole: boolean) => call<RunSummary>('read_platform', { name, whole }),
};

export const events = {
  syncProgress: (handler: (e: SyncProgressEvent) => void): Promise<UnlistenFn> =>
    listen<SyncProgressEvent>('sync-progress', (e) => handler(e.payload)),
  syncFinished: (handler: (e: SyncFinishedEvent) => void): Promise<UnlistenFn> =>
    listen<SyncFinishedEvent>('sync-finished', (e) => handler(e.payload)),
  connectionChanged: (handler: (e: ConnectionChangedEvent) => void): Promise<UnlistenFn> =>
    listen<ConnectionChangedEvent>('connection-changed', (e) => handler(e.payload)),
  instancesChanged: (handler: () => void): Promise<UnlistenFn> => listen('instances-changed', () => handler()),
  openScreen: (handler: (e: OpenScreenEvent) => void): Promise<UnlistenFn> =>
    listen<OpenScreenEvent>('open-screen', (e) => handler(e.payload)),
};

export const MODULES: Module[] = ['Accounts', 'Contacts', 'Products', 'Invoices', 'Orders', 'Payments'];
export const METHODS: MethodName[] = ['push_create', 'push_update', 'push_delete', 'pull_create', 'pull_update'];
