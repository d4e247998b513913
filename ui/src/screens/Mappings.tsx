// The mappings: per module and method, the rules as rows (QuickBooks field ← jq
// expression), checked as they are typed, with a live preview of the body a chosen
// record would send and which rule made each field.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, asApiError, METHODS, MODULES, type InstanceView, type MethodName, type Module, type PlatformRecord, type Spec } from '../api';
import type { Difference } from '../bindings/Difference';
import type { Issue } from '../bindings/Issue';
import type { Preview } from '../bindings/Preview';
import type { TestOutcome } from '../bindings/TestOutcome';
import { Json, Section, type Notify } from '../components/common';
import { debounce } from '../lib/debounce';
import { formatValue } from '../lib/format';
import { addModule, addRule, findModule, isRuleMethod, moveRule, removeRule, rulesOf, updateRule, withRules } from '../lib/rules';
import { parseSpecFile, specFileName } from '../lib/specfile';

const value = (e: Event) => (e.target as HTMLInputElement).value;

const searchLater = debounce((set: (s: string) => void, text: string) => set(text), 250);

/** Suggestions only: a module may name any entity QuickBooks has. */
const SUGGESTED_ENTITIES = ['Estimate', 'SalesReceipt', 'CreditMemo', 'RefundReceipt', 'Vendor', 'Bill', 'PurchaseOrder', 'Employee', 'TimeActivity'];

export function Mappings({ instance, notify }: { instance: InstanceView; notify: Notify }) {
  const name = instance.name;
  const [spec, setSpec] = useState<Spec | null>(null);
  const [dirty, setDirty] = useState(false);
  const [module, setModule] = useState('');
  const [method, setMethod] = useState<MethodName>('push_create');
  const [issues, setIssues] = useState<Issue[]>([]);
  const [records, setRecords] = useState<PlatformRecord[]>([]);
  const [recordId, setRecordId] = useState('');
  const [recordTyped, setRecordTyped] = useState('');
  const [recordSearch, setRecordSearch] = useState('');
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [test, setTest] = useState<TestOutcome | null>(null);
  const [differences, setDifferences] = useState<Difference[] | null>(null);
  const [newModule, setNewModule] = useState<{ name: string; entity: string; platform: Module | '' }>({
    name: '',
    entity: '',
    platform: '',
  });

  const load = async () => {
    try {
      const loaded = await api.spec(name);
      setSpec(loaded);
      setDirty(false);
      setModule((current) => (findModule(loaded, current) ? current : (loaded.modules[0]?.name ?? '')));
    } catch (error) {
      notify(asApiError(error));
    }
  };
  useEffect(() => {
    load();
  }, [name]);

  const moduleSpec = spec ? findModule(spec, module) : undefined;
  const platformModule = (moduleSpec?.platform_module ?? moduleSpec?.name) as Module | undefined;
  useEffect(() => {
    if (!platformModule) return;
    api.records(platformModule, recordSearch, 0, 50).then(
      (page) => {
        setRecords(page.records);
        setRecordId((current) => (page.records.some((r) => r.id === current) ? current : (page.records[0]?.id ?? '')));
      },
      () => setRecords([]),
    );
  }, [platformModule, recordSearch]);

  const check = useMemo(
    () =>
      debounce((edited: Spec) => {
        api.checkSpec(edited).then(setIssues, (e) => notify(asApiError(e)));
      }, 300),
    [notify],
  );
  const refreshPreview = useMemo(
    () =>
      debounce((edited: Spec, moduleName: string, methodName: MethodName, id: string) => {
        if (!id || !methodName.startsWith('push')) {
          setPreview(null);
          return;
        }
        api.preview(name, moduleName, methodName, { platform: id }, edited).then(
          (answer) => {
            setPreview(answer);
            setPreviewError(null);
          },
          (error) => {
            const e = asApiError(error);
            setPreviewError(e.detail ? `${e.message}\n${e.detail}` : e.message);
          },
        );
      }, 250),
    [name],
  );
  useEffect(() => {
    if (!spec) return;
    check(spec);
    refreshPreview(spec, module, method, recordId);
  }, [spec, module, method, recordId, check, refreshPreview]);

  if (!spec) return <div class="screen">Loading the spec…</div>;
  const rules = rulesOf(spec, module, method);
  const editable = isRuleMethod(method);
  const setRules = (next: typeof rules) => {
    if (!isRuleMethod(method)) return;
    setSpec(withRules(spec, module, method, next));
    setDirty(true);
  };
  const issuesHere = issues.filter((i) => i.module === module && (i.method === null || i.method === method));
  const ruleIssue = (index: number) => issuesHere.filter((i) => i.rule === index + 1);

  const save = async () => {
    try {
      const warnings = await api.saveSpec(name, spec);
      setDirty(false);
      notify(warnings.length ? `Saved, with ${warnings.length} warning(s).` : 'Mappings saved.');
    } catch (error) {
      notify(asApiError(error));
    }
  };
  const exportSpec = () => {
    const blob = new Blob([JSON.stringify(spec, null, 2)], { type: 'application/json' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = specFileName(name);
    link.click();
    URL.revokeObjectURL(link.href);
  };
  const importSpec = async (file: File | undefined) => {
    if (!file) return;
    try {
      const imported = parseSpecFile(await file.text(), file.name);
      setSpec(imported);
      setDirty(true);
      setModule(imported.modules[0]?.name ?? '');
      notify(`${file.name} loaded: check it, then Save.`);
    } catch (error) {
      notify({ code: 'validation', message: (error as Error).message, detail: null });
    }
  };

  return (
    <div class="screen mappings">
      <Section
        title="Mappings"
        actions={
          <>
            <button type="button" onClick={() => api.specDiff(name, dirty ? spec : null).then(setDifferences, (e) => notify(asApiError(e)))}>
              Difference to built-in
            </button>
            <button type="button" onClick={exportSpec}>
              Export…
            </button>
            <label class="button">
              Import…
              <input type="file" accept="application/json,.json" class="sr-only" onChange={(e) => importSpec((e.target as HTMLInputElement).files?.[0])} />
            </label>
            <button
              type="button"
              onClick={async () => {
                if (!window.confirm('Go back to the built-in spec? Your changes to the mappings are removed.')) return;
                await api.resetSpec(name).catch((e) => notify(asApiError(e)));
                load();
              }}
            >
              Reset
            </button>
            <button type="button" class="primary" data-testid="mapping-save" disabled={!dirty} onClick={save}>
              Save
            </button>
          </>
        }
      >
        <div class="toolbar">
          <label>
            Module
            <select data-testid="mapping-module" value={module} onChange={(e) => setModule(value(e))}>
              {spec.modules.map((m) => (
                <option key={m.name} value={m.name}>
                  {m.name} → {m.entity}
                </option>
              ))}
            </select>
          </label>
          <label>
            Method
            <select data-testid="mapping-method" value={method} onChange={(e) => setMethod(value(e) as MethodName)}>
              {METHODS.map((m) => (
                <option key={m} value={m}>
                  {m.replace('_', ' ')}
                </option>
              ))}
            </select>
          </label>
          <details class="add-module">
            <summary data-testid="add-module-summary">Add a module</summary>
            <input aria-label="New module name" data-testid="new-module-name" placeholder="Name, e.g. Estimates" value={newModule.name} onInput={(e) => setNewModule({ ...newModule, name: value(e) })} />
            <input
              aria-label="QuickBooks entity"
              data-testid="new-module-entity"
              placeholder="QuickBooks entity, e.g. Estimate"
              list="qbo-entities"
              value={newModule.entity}
              onInput={(e) => setNewModule({ ...newModule, entity: value(e) })}
            />
            <datalist id="qbo-entities">
              {SUGGESTED_ENTITIES.map((entity) => (
                <option key={entity} value={entity} />
              ))}
            </datalist>
            <select
              aria-label="Platform records it syncs"
              data-testid="new-module-platform"
              value={newModule.platform}
              onChange={(e) => setNewModule({ ...newModule, platform: value(e) as Module | '' })}
            >
              <option value="">Platform records…</option>
              {MODULES.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
            <button
              type="button"
              data-testid="new-module-add"
              onClick={() => {
                try {
                  setSpec(addModule(spec, newModule.name, newModule.entity, newModule.platform));
                  setModule(newModule.name.trim());
                  setDirty(true);
                  setNewModule({ name: '', entity: '', platform: '' });
                } catch (error) {
                  notify({ code: 'validation', message: (error as Error).message, detail: null });
                }
              }}
            >
              Add
            </button>
          </details>
        </div>

        {!editable && moduleSpec && (
          <p class="hint">
            push delete has no rules: it {moduleSpec.methods.push_delete.action === 'delete' ? 'deletes' : 'deactivates'} the
            QuickBooks record ({moduleSpec.methods.push_delete.enabled ? 'on' : 'off'}).
          </p>
        )}
        {editable && (
          <div class="rules" role="table" aria-label={`Rules of ${module} ${method}`}>
            <div class="rule-head" role="row">
              <span role="columnheader">#</span>
              <span role="columnheader">QuickBooks field</span>
              <span role="columnheader" />
              <span role="columnheader">Expression (jq, over the record)</span>
              <span role="columnheader">
                <span class="sr-only">Order and remove</span>
              </span>
            </div>
            {rules.map((rule, index) => {
              const problems = ruleIssue(index);
              return (
                <div key={index} class={`rule-row ${problems.length ? 'has-issue' : ''}`} role="row" data-testid="rule-row">
                  <span class="rule-number">{index + 1}</span>
                  <input
                    aria-label={`Rule ${index + 1} QuickBooks field`}
                    data-testid="rule-target"
                    value={rule.target}
                    onInput={(e) => setRules(updateRule(rules, index, { target: value(e) }))}
                  />
                  <span aria-hidden="true">←</span>
                  <input
                    aria-label={`Rule ${index + 1} expression`}
                    class="mono"
                    data-testid="rule-expr"
                    value={rule.expr}
                    onInput={(e) => setRules(updateRule(rules, index, { expr: value(e) }))}
                  />
                  <span class="rule-buttons">
                    <button type="button" class="ghost" data-testid="rule-up" aria-label={`Move rule ${index + 1} up`} onClick={() => setRules(moveRule(rules, index, -1))}>
                      ↑
                    </button>
                    <button type="button" class="ghost" data-testid="rule-down" aria-label={`Move rule ${index + 1} down`} onClick={() => setRules(moveRule(rules, index, 1))}>
                      ↓
                    </button>
                    <button type="button" class="ghost" data-testid="rule-remove" aria-label={`Remove rule ${index + 1}`} onClick={() => setRules(removeRule(rules, index))}>
                      ✕
                    </button>
                  </span>
                  {problems.map((p, i) => (
                    <p key={i} class={`rule-issue ${p.severity}`}>
                      {p.field ? `${p.field}: ` : ''}
                      {p.message}
                    </p>
                  ))}
                </div>
              );
            })}
            <button type="button" data-testid="rule-add" onClick={() => setRules(addRule(rules))}>
              Add a rule
            </button>
          </div>
        )}
        <ul class="issues" data-testid="mapping-issues">
          {issuesHere
            .filter((i) => i.rule === null)
            .map((i, n) => (
              <li key={n} class={i.severity}>
                {i.message}
              </li>
            ))}
        </ul>
      </Section>

      <Section
        title="Preview"
        actions={
          method === 'push_create' || method === 'push_update' ? (
            <button
              type="button"
              disabled={!recordId}
              onClick={() => api.testMapping(name, module, method, recordId, spec).then(setTest, (e) => notify(asApiError(e)))}
            >
              Test against sandbox
            </button>
          ) : undefined
        }
      >
        {method.startsWith('push') ? (
          <>
            <label>
              Find a record
              <input
                type="search"
                data-testid="preview-search"
                placeholder="Name, number…"
                value={recordTyped}
                onInput={(e) => {
                  setRecordTyped(value(e));
                  searchLater(setRecordSearch, value(e));
                }}
              />
            </label>
            <label>
              Record
              <select data-testid="preview-record" value={recordId} onChange={(e) => setRecordId(value(e))}>
                {records.length === 0 && <option value="">(no record matches)</option>}
                {records.map((r) => (
                  <option key={r.id} value={r.id}>
                    {recordTitle(r)}
                  </option>
                ))}
              </select>
            </label>
            {previewError && <pre class="field-error">{previewError}</pre>}
            {preview && (
              <div class="preview">
                <Json value={preview.body} testId="preview-body" />
                <table class="table compact" aria-label="Which rule made each field">
                  <tbody>
                    {Object.entries(preview.rules).map(([field, [rule, expr]]) => (
                      <tr key={field}>
                        <td>{field}</td>
                        <td>rule {rule}</td>
                        <td class="mono">{expr}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        ) : (
          <p class="hint">Pull methods map QuickBooks entities; their preview needs an entity, which the next pull provides.</p>
        )}
        {test && (
          <div class={`test-outcome ${test.result}`}>
            {test.result === 'accepted' ? (
              <p>QuickBooks accepted it as {String((test.entity as Record<string, unknown>)?.Id ?? '')}.</p>
            ) : (
              <>
                <p class="field-error">QuickBooks refused it: {test.error.message}</p>
                {test.error.detail && <pre class="detail">{test.error.detail}</pre>}
              </>
            )}
          </div>
        )}
      </Section>

      {differences && (
        <Section title="Difference to the built-in spec" actions={<button type="button" onClick={() => setDifferences(null)}>Close</button>}>
          {differences.length === 0 ? (
            <p>The mappings are the built-in ones.</p>
          ) : (
            <table class="table compact">
              <tbody>
                {differences.map((d) => (
                  <tr key={d.item}>
                    <td>{d.item}</td>
                    <td class="mono">{formatValue(d.before ?? null)}</td>
                    <td>→</td>
                    <td class="mono">{formatValue(d.after ?? null)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      )}
    </div>
  );
}

export function recordTitle(record: PlatformRecord): string {
  const data = record.data as Record<string, unknown> | null;
  const title = data && (data.Name ?? data.DisplayName ?? data.Number ?? data.Title);
  return title ? `${String(title)} (${record.id})` : record.id;
}
