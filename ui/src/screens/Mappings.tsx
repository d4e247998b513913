// The mappings: per module and method, the rules (QuickBooks field ← a pick or jq),
// checked as they are edited, with the preview beside them: a chosen record's body and
// each rule's value, a failing rule marked on its line. Required QuickBooks fields that
// no rule fills are listed above the rules, before any Save.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, asApiError, METHODS, MODULES, type InstanceView, type MethodName, type Module, type PlatformRecord, type Spec } from '../api';
import type { Difference } from '../bindings/Difference';
import type { Issue } from '../bindings/Issue';
import type { MappingFields } from '../bindings/MappingFields';
import type { Pick } from '../bindings/Pick';
import type { RulesPreview } from '../bindings/RulesPreview';
import type { TestOutcome } from '../bindings/TestOutcome';
import { Json, Section, type Notify } from '../components/common';
import { MappingRule, type RuleMode } from '../components/MappingRule';
import { debounce } from '../lib/debounce';
import { formatValue } from '../lib/format';
import type { JqVocabulary } from '../lib/jq';
import { EMPTY_FORM, formToPick, KIND_WORDS, pickToForm, requiredTarget, targetChoices, type PickForm } from '../lib/picker';
import { addModule, addRule, findModule, isRuleMethod, moveRule, removeRule, rulesOf, updateRule, withMethodEnabled, withRules } from '../lib/rules';
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
  const [fields, setFields] = useState<MappingFields | null>(null);
  /** Per rule, the pick it reads as (null: it is more than a pick), from the connector. */
  const [picks, setPicks] = useState<(Pick | null)[]>([]);
  /** Per rule, the operator's choice of picker or editor, over what the rule reads as. */
  const [modes, setModes] = useState<Record<number, RuleMode>>({});
  /** Per rule, a picker form not yet complete enough to be a pick. */
  const [drafts, setDrafts] = useState<Record<number, PickForm>>({});
  const [newTarget, setNewTarget] = useState('');
  /** A rule just added: brought into view, since it lands at the end of a long list. */
  const [added, setAdded] = useState<number | null>(null);
  const [records, setRecords] = useState<PlatformRecord[]>([]);
  const [recordId, setRecordId] = useState('');
  const [recordTyped, setRecordTyped] = useState('');
  const [recordSearch, setRecordSearch] = useState('');
  const [preview, setPreview] = useState<RulesPreview | null>(null);
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

  // Another module or method is another list of rules: the per-row choices start again.
  useEffect(() => {
    setModes({});
    setDrafts({});
    setNewTarget('');
    setTest(null);
  }, [module, method]);

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
      debounce((edited: Spec, moduleName: string, methodName: MethodName) => {
        api.checkSpec(edited).then(setIssues, (e) => notify(asApiError(e)));
        if (!findModule(edited, moduleName)) return;
        api.mappingFields(edited, moduleName, methodName).then(setFields, () => setFields(null));
      }, 300),
    [notify],
  );
  const refreshPreview = useMemo(
    () =>
      debounce((edited: Spec, moduleName: string, methodName: MethodName, id: string) => {
        if (!id || !methodName.startsWith('push') || methodName === 'push_delete') {
          setPreview(null);
          return;
        }
        api.previewRules(name, moduleName, methodName, id, edited).then(
          (answer) => {
            setPreview(answer);
            setPreviewError(null);
          },
          (error) => {
            const e = asApiError(error);
            setPreview(null);
            setPreviewError(e.detail ? `${e.message}\n${e.detail}` : e.message);
          },
        );
      }, 250),
    [name],
  );
  const rules = spec ? rulesOf(spec, module, method) : [];
  const expressions = rules.map((r) => r.expr);
  const expressionsKey = JSON.stringify(expressions);
  useEffect(() => {
    if (!spec) return;
    check(spec, module, method);
    refreshPreview(spec, module, method, recordId);
  }, [spec, module, method, recordId, check, refreshPreview]);
  useEffect(() => {
    api.readPicks(expressions).then(setPicks, () => setPicks(expressions.map(() => null)));
  }, [expressionsKey]);

  useEffect(() => {
    if (added === null) return;
    document.querySelectorAll('[data-testid=rule-row]')[added]?.scrollIntoView({ block: 'nearest' });
    setAdded(null);
  }, [added]);

  const vocabulary: JqVocabulary = useMemo(
    () => ({
      fields: fields?.sources ?? [],
      helpers: fields?.helpers ?? [],
      variables: fields?.variables ?? [],
      lookups: fields?.lookups ?? [],
      modules: (fields?.modules ?? []).map((m) => m.name),
      platformModules: MODULES,
    }),
    [fields],
  );

  if (!spec) return <div class="screen">Loading the spec…</div>;
  const editable = isRuleMethod(method);
  const setRules = (next: typeof rules) => {
    if (!isRuleMethod(method)) return;
    setSpec(withRules(spec, module, method, next));
    setDirty(true);
  };
  /** A rule's rows change places or go: the per-row choices would land on other rules. */
  const reshuffle = (next: typeof rules) => {
    setModes({});
    setDrafts({});
    setRules(next);
  };
  const issuesHere = issues.filter((i) => i.module === module && (i.method === null || i.method === method));
  const gaps = method === 'push_create' && moduleSpec?.methods.push_create.enabled ? (fields?.unfilled_required ?? []) : [];
  const gapMessages = new Set(gaps.map((g) => g.message));
  const ruleIssues = (index: number) => issuesHere.filter((i) => i.rule === index + 1);

  const modeOf = (index: number): RuleMode => {
    const chosen = modes[index];
    if (chosen) return chosen;
    const rule = rules[index];
    return picks[index] || rule?.expr.trim() === '' ? 'pick' : 'jq';
  };
  const formOf = (index: number): PickForm => {
    const draft = drafts[index];
    if (draft) return draft;
    const pick = picks[index];
    return pick ? pickToForm(pick) : EMPTY_FORM;
  };
  const targetKind = (index: number) => fields?.targets.find((t) => t.path === rules[index]?.target)?.kind;
  const changeForm = (index: number, form: PickForm) => {
    setDrafts({ ...drafts, [index]: form });
    const made = formToPick(form, targetKind(index));
    if (!('pick' in made)) return;
    api.pickExpression(made.pick).then(
      (expr) => setRules(updateRule(rules, index, { expr })),
      (e) => notify(asApiError(e)),
    );
  };
  const addRuleFor = (target: string) => {
    const index = rules.length;
    setRules(addRule(rules, { target, expr: '' }));
    setModes({ ...modes, [index]: 'pick' });
    setNewTarget('');
    setAdded(index);
  };

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
  const choices = targetChoices(fields?.targets ?? [], rules);

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
      </Section>

      <div class="mapping-columns">
        <Section title={editable ? `Rules: ${module} ${method.replace('_', ' ')}` : 'Rules'}>
          {moduleSpec && (
            <label class="method-enabled">
              <input
                type="checkbox"
                data-testid="method-enabled"
                checked={moduleSpec.methods[method].enabled}
                onChange={(e) => {
                  setSpec(withMethodEnabled(spec, module, method, (e.target as HTMLInputElement).checked));
                  setDirty(true);
                }}
              />
              {moduleSpec.methods[method].enabled
                ? `On: a sync runs ${module} ${method.replace('_', ' ')}.`
                : `Off: a sync skips ${module} ${method.replace('_', ' ')}. Switch it on once its rules are ready.`}
            </label>
          )}
          {!editable && moduleSpec && (
            <p class="hint">
              push delete has no rules: it {moduleSpec.methods.push_delete.action === 'delete' ? 'deletes' : 'deactivates'} the
              QuickBooks record.
            </p>
          )}
          {gaps.length > 0 && (
            <div class="required-gaps" role="alert" data-testid="required-unfilled">
              <strong>QuickBooks refuses every new {moduleSpec?.entity} until these are filled; Save is refused until then:</strong>
              <ul>
                {gaps.map((gap) => (
                  <li key={gap.message} data-testid="required-gap" data-fields={gap.one_of.join(' ')}>
                    <span>{gap.message}.</span>{' '}
                    {gap.rule === null && (
                      <button type="button" class="link" data-testid="required-add" onClick={() => addRuleFor(requiredTarget(fields?.targets ?? [], gap.one_of))}>
                        Add a rule for {requiredTarget(fields?.targets ?? [], gap.one_of)}
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {editable && (
            <>
              <datalist id="mapping-targets">
                {(fields?.targets ?? []).map((t) => (
                  <option key={t.path} value={t.path}>
                    {t.label}
                  </option>
                ))}
              </datalist>
              <div class="add-rule">
                <label>
                  Add a rule for
                  <select data-testid="rule-add-target" value={newTarget} onChange={(e) => setNewTarget(value(e))}>
                    <option value="">a field…</option>
                    {choices.map(({ field, rules: setBy }) => (
                      <option key={field.path} value={field.path}>
                        {field.label} ({field.path}) · {KIND_WORDS[field.kind]}
                        {field.required ? ' · required' : ''}
                        {setBy.length ? ` · set by rule ${setBy.join(', ')}` : ''}
                      </option>
                    ))}
                  </select>
                </label>
                <button type="button" data-testid="rule-add" onClick={() => addRuleFor(newTarget)}>
                  Add
                </button>
              </div>
              <div class="rules" role="list" aria-label={`Rules of ${module} ${method}`}>
                {rules.map((rule, index) => {
                  const form = formOf(index);
                  const made = formToPick(form, targetKind(index));
                  return (
                    <MappingRule
                      key={index}
                      index={index}
                      rule={rule}
                      method={method}
                      fields={fields}
                      mode={modeOf(index)}
                      canPick={picks[index] !== null || rule.expr.trim() === ''}
                      form={form}
                      missing={'missing' in made ? made.missing : null}
                      issues={ruleIssues(index)}
                      result={preview?.values[index]}
                      vocabulary={vocabulary}
                      onTarget={(target) => setRules(updateRule(rules, index, { target }))}
                      onForm={(next) => changeForm(index, next)}
                      onExpression={(expr) => {
                        // Typing jq keeps the editor, even once the text reads as a pick.
                        setModes((current) => ({ ...current, [index]: 'jq' }));
                        // The picker shows the typed rule next time, not a form left from before.
                        setDrafts((current) => Object.fromEntries(Object.entries(current).filter(([at]) => Number(at) !== index)));
                        setRules(updateRule(rules, index, { expr }));
                      }}
                      onMode={(mode) => setModes({ ...modes, [index]: mode })}
                      onMove={(delta) => reshuffle(moveRule(rules, index, delta))}
                      onRemove={() => reshuffle(removeRule(rules, index))}
                    />
                  );
                })}
              </div>
            </>
          )}
          <ul class="issues" data-testid="mapping-issues">
            {issuesHere
              .filter((i) => i.rule === null && !gapMessages.has(i.message))
              .map((i, n) => (
                <li key={n} class={i.severity}>
                  {i.message}
                </li>
              ))}
          </ul>
        </Section>

        <aside class="mapping-preview">
          <Section
            title="Preview"
            actions={
              method === 'push_create' || method === 'push_update' ? (
                <button
                  type="button"
                  data-testid="mapping-test"
                  disabled={!recordId}
                  onClick={() => api.testMapping(name, module, method, recordId, spec).then(setTest, (e) => notify(asApiError(e)))}
                >
                  Test against the sandbox company
                </button>
              ) : undefined
            }
          >
            {editable && method.startsWith('push') ? (
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
                  <>
                    <p class="hint">
                      What {preview.entity} QuickBooks would receive
                      {preview.values.some((v) => v.error) ? ` (${preview.values.filter((v) => v.error).length} failing rule(s) left out)` : ''}:
                    </p>
                    <Json value={preview.body} testId="preview-body" />
                  </>
                )}
              </>
            ) : (
              <p class="hint">
                {editable
                  ? 'Pull methods map QuickBooks entities; their preview needs an entity, which the next pull provides.'
                  : 'push delete sends no body.'}
              </p>
            )}
            {test && (
              <div class={`test-outcome ${test.result}`} data-testid="mapping-test-outcome" data-result={test.result}>
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
        </aside>
      </div>

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
