// The Settings screen's form against the instance it shows. The instance can change while
// the operator edits (Connect sets the company ID, the tray pauses the schedule, another
// window saves): what the operator has not touched follows it, what they edited stays, and
// Save sends only their edits, so it never undoes a change made elsewhere meanwhile.

import type { ConflictPolicy } from '../bindings/ConflictPolicy';
import type { Environment } from '../bindings/Environment';
import type { InstanceChanges } from '../bindings/InstanceChanges';
import type { InstanceView } from '../bindings/InstanceView';
import { formFromSchedule, type ScheduleForm } from './schedule';

export type SettingsForm = {
  environment: Environment['kind'];
  baseUrl: string;
  companyId: string;
  clientId: string;
  redirectUri: string;
  variables: Record<string, string>;
  policies: Record<string, ConflictPolicy>;
  schedule: ScheduleForm;
};

type TextField = 'baseUrl' | 'companyId' | 'clientId' | 'redirectUri';

export function formFromInstance(instance: InstanceView): SettingsForm {
  return {
    environment: instance.environment.kind,
    baseUrl: instance.environment.kind === 'custom' ? instance.environment.base_url : '',
    companyId: instance.company_id ?? '',
    clientId: instance.client_id ?? '',
    redirectUri: instance.redirect_uri ?? '',
    variables: { ...instance.settings.variables },
    policies: { ...instance.settings.conflict_policies },
    schedule: formFromSchedule(instance.settings.schedule),
  };
}

/** Each key of `form` the operator left as it was in `before` takes its value in `after`. */
function follow<T extends Record<string, unknown>>(form: T, before: T, after: T): T {
  const merged: Record<string, unknown> = { ...form };
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (form[key] !== before[key]) continue;
    if (key in after) merged[key] = after[key];
    else delete merged[key];
  }
  return merged as T;
}

/** The form once the instance went from `before` to `after` under it. */
export function rebaseForm(form: SettingsForm, before: SettingsForm, after: SettingsForm): SettingsForm {
  const field = <K extends 'environment' | TextField>(key: K): SettingsForm[K] => (form[key] === before[key] ? after[key] : form[key]);
  return {
    environment: field('environment'),
    baseUrl: field('baseUrl'),
    companyId: field('companyId'),
    clientId: field('clientId'),
    redirectUri: field('redirectUri'),
    variables: follow(form.variables, before.variables, after.variables),
    policies: follow(form.policies, before.policies, after.policies),
    schedule: follow(form.schedule, before.schedule, after.schedule),
  };
}

/**
 * What the operator changed against `base`: the instance's changes (methods and the secret
 * are added by the screen, which tracks them apart) and whether the schedule changed.
 */
export function formChanges(form: SettingsForm, base: SettingsForm): { changes: InstanceChanges; scheduleChanged: boolean } {
  const text = (field: TextField) => (form[field].trim() !== base[field] ? form[field].trim() : null);
  const environmentChanged = form.environment !== base.environment || (form.environment === 'custom' && text('baseUrl') !== null);
  const environment: Environment | null = !environmentChanged
    ? null
    : form.environment === 'custom'
      ? { kind: 'custom', base_url: form.baseUrl.trim() }
      : { kind: form.environment };
  const changedKeys = <V>(now: Record<string, V>, was: Record<string, V>, removed: V | null) => {
    const out: Record<string, V> = {};
    for (const [key, value] of Object.entries(now)) if (value !== was[key]) out[key] = value;
    if (removed !== null) for (const key of Object.keys(was)) if (!(key in now)) out[key] = removed;
    return out;
  };
  return {
    changes: {
      environment,
      company_id: text('companyId'),
      client_id: text('clientId'),
      client_secret: null,
      redirect_uri: text('redirectUri'),
      // An emptied variable goes back to the spec's default: the shell takes "" to mean that.
      variables: changedKeys(form.variables, base.variables, ''),
      methods: [],
      conflict_policies: changedKeys(form.policies, base.policies, null),
    },
    scheduleChanged: (Object.keys(form.schedule) as (keyof ScheduleForm)[]).some((key) => form.schedule[key] !== base.schedule[key]),
  };
}

/** Whether Save has anything of the form's to send: what the bar under the form tells. */
export function formHasEdits(form: SettingsForm, base: SettingsForm): boolean {
  const { changes, scheduleChanged } = formChanges(form, base);
  return (
    scheduleChanged ||
    changes.environment !== null ||
    changes.company_id !== null ||
    changes.client_id !== null ||
    changes.redirect_uri !== null ||
    Object.keys(changes.variables).length > 0 ||
    Object.keys(changes.conflict_policies).length > 0
  );
}
