// One rule of the Mappings screen: the field it fills, then either the picker (a platform
// field, a fixed value, a variable, a lookup, a linked record's id — the connector writes
// the jq, shown under it) or the jq editor, then the value it gives the previewed record.

import type { FieldView } from '../bindings/FieldView';
import type { Issue } from '../bindings/Issue';
import type { MappingFields } from '../bindings/MappingFields';
import type { MethodName } from '../bindings/MethodName';
import type { Rule } from '../bindings/Rule';
import type { RuleValue } from '../bindings/RuleValue';
import { formatValue } from '../lib/format';
import type { JqVocabulary } from '../lib/jq';
import { KIND_WORDS, PICK_KIND_LABELS, pickable, pickKinds, switchKind, targetWords, type PickForm, type PickKind } from '../lib/picker';
import { JqEditor } from './JqEditor';

const value = (e: Event) => (e.target as HTMLInputElement).value;

export type RuleMode = 'pick' | 'jq';

export function MappingRule({
  index,
  rule,
  method,
  fields,
  mode,
  canPick,
  form,
  missing,
  issues,
  result,
  vocabulary,
  onTarget,
  onForm,
  onExpression,
  onMode,
  onMove,
  onRemove,
}: {
  index: number;
  rule: Rule;
  method: MethodName;
  fields: MappingFields | null;
  mode: RuleMode;
  /** Whether the rule reads as a pick (or is empty), so the picker can show it without losing anything. */
  canPick: boolean;
  form: PickForm;
  /** What the picker still needs, in words. */
  missing: string | null;
  issues: Issue[];
  result: RuleValue | undefined;
  vocabulary: JqVocabulary;
  onTarget: (target: string) => void;
  onForm: (form: PickForm) => void;
  onExpression: (expr: string) => void;
  onMode: (mode: RuleMode) => void;
  onMove: (delta: -1 | 1) => void;
  onRemove: () => void;
}) {
  const n = index + 1;
  const target = fields?.targets.find((t) => t.path === rule.target);
  const words = targetWords(target, rule.target);
  const fitsPicker = pickable(target?.kind);
  // A rule that does not compile fails every record: the check's message (with its
  // column) says it once, so the preview's copy of it is left out.
  const failed = issues.some((i) => i.severity === 'error') ? null : (result?.error ?? null);
  const problems = issues.map((i) => ({ column: i.column, message: i.message, severity: i.severity }));
  return (
    <div
      class={`rule-row${issues.some((i) => i.severity === 'error') ? ' has-issue' : ''}${result?.error ? ' failing' : ''}`}
      role="listitem"
      data-testid="rule-row"
      data-target={rule.target}
      data-mode={mode}
    >
      <div class="rule-line">
        <span class="rule-number" aria-hidden="true">
          {n}
        </span>
        <label class="rule-target">
          <span class="sr-only">Rule {n} field</span>
          <input
            aria-label={`Rule ${n} field`}
            data-testid="rule-target"
            list="mapping-targets"
            value={rule.target}
            placeholder="QuickBooks field"
            onInput={(e) => onTarget(value(e))}
          />
        </label>
        <span class="rule-about">
          <span class="rule-label">{words.label}</span>
          {target && <span class="badge">{KIND_WORDS[target.kind]}</span>}
          {words.required && (
            <span class="badge required" data-testid="rule-required" title={words.required}>
              required<span class="sr-only">: {words.required}</span>
            </span>
          )}
        </span>
        <span class="rule-tools">
          <span class="segmented" role="group" aria-label={`Rule ${n}: edit as`}>
            <button
              type="button"
              aria-pressed={mode === 'pick'}
              data-testid="rule-mode-pick"
              disabled={!canPick || !fitsPicker}
              title={!fitsPicker ? 'This field is built in jq' : !canPick ? 'This rule is more than a pick: edit it as jq' : undefined}
              onClick={() => onMode('pick')}
            >
              Pick
            </button>
            <button type="button" aria-pressed={mode === 'jq'} data-testid="rule-mode-jq" onClick={() => onMode('jq')}>
              jq
            </button>
          </span>
          <button type="button" class="ghost" data-testid="rule-up" aria-label={`Move rule ${n} up`} onClick={() => onMove(-1)}>
            ↑
          </button>
          <button type="button" class="ghost" data-testid="rule-down" aria-label={`Move rule ${n} down`} onClick={() => onMove(1)}>
            ↓
          </button>
          <button type="button" class="ghost" data-testid="rule-remove" aria-label={`Remove rule ${n}`} onClick={onRemove}>
            ✕
          </button>
        </span>
      </div>

      {mode === 'pick' ? (
        <PickEditor n={n} method={method} fields={fields} target={target} form={form} missing={missing} expr={rule.expr} onForm={onForm} />
      ) : (
        <JqEditor
          value={rule.expr}
          onChange={onExpression}
          vocabulary={vocabulary}
          problems={problems}
          label={`Rule ${n} expression (jq)`}
          testId="rule-jq-editor"
        />
      )}

      {result && !(result.error && !failed) && (
        <p class={`rule-value${failed ? ' failed' : ''}`} data-testid="rule-value" data-state={failed ? 'failed' : 'ok'}>
          {failed ? (
            <>
              <strong>Fails:</strong> {failed}
            </>
          ) : result.value === null ? (
            <span class="muted">no value: left out</span>
          ) : (
            <>
              <span class="muted">gives</span> <code>{formatValue(result.value)}</code>
            </>
          )}
        </p>
      )}
      {issues.map((p, i) => (
        <p key={i} class={`rule-issue ${p.severity}`} data-testid="rule-issue">
          {p.column !== null ? `Column ${p.column}: ` : ''}
          {p.message}
        </p>
      ))}
    </div>
  );
}

function PickEditor({
  n,
  method,
  fields,
  target,
  form,
  missing,
  expr,
  onForm,
}: {
  n: number;
  method: MethodName;
  fields: MappingFields | null;
  target: FieldView | undefined;
  form: PickForm;
  missing: string | null;
  expr: string;
  onForm: (form: PickForm) => void;
}) {
  const sources = fields?.sources ?? [];
  const ids = sources.filter((s) => s.kind === 'reference');
  const fieldChoices = form.kind === 'link' ? ids : sources;
  const set = (change: Partial<PickForm>) => onForm({ ...form, ...change });
  return (
    <div class="pick">
      <div class="pick-inputs">
        <select
          aria-label={`Rule ${n}: take the value from`}
          data-testid="pick-kind"
          value={form.kind}
          onChange={(e) => onForm(switchKind(form, value(e) as PickKind, sources, fields?.modules ?? []))}
        >
          {pickKinds(method).map((kind) => (
            <option key={kind} value={kind}>
              {PICK_KIND_LABELS[kind]}
            </option>
          ))}
        </select>
        {form.kind === 'lookup' && (
          <select aria-label={`Rule ${n}: lookup table`} data-testid="pick-table" value={form.table} onChange={(e) => set({ table: value(e) })}>
            <option value="">Lookup table…</option>
            {(fields?.lookups ?? []).map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        )}
        {form.kind === 'link' && (
          <select aria-label={`Rule ${n}: linked module`} data-testid="pick-module" value={form.module} onChange={(e) => set({ module: value(e) })}>
            <option value="">Module…</option>
            {(fields?.modules ?? []).map((m) => (
              <option key={m.name} value={m.name}>
                {m.name} ({m.entity})
              </option>
            ))}
          </select>
        )}
        {(form.kind === 'field' || form.kind === 'lookup' || form.kind === 'link') && (
          <select aria-label={`Rule ${n}: platform field`} data-testid="pick-field" value={form.path} onChange={(e) => set({ path: value(e) })}>
            <option value="">{form.kind === 'link' ? 'Id field…' : 'Field…'}</option>
            {fieldChoices.map((s) => (
              <option key={s.path} value={s.path}>
                {s.label}
                {s.label === s.path ? '' : ` (${s.path})`} · {KIND_WORDS[s.kind]}
                {s.required ? ' · always set' : ''}
              </option>
            ))}
            {form.path && !fieldChoices.some((s) => s.path === form.path) && <option value={form.path}>{form.path}</option>}
          </select>
        )}
        {form.kind === 'variable' && (
          <select aria-label={`Rule ${n}: server variable`} data-testid="pick-variable" value={form.name} onChange={(e) => set({ name: value(e) })}>
            <option value="">Variable…</option>
            {(fields?.variables ?? []).map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
            {form.name && !(fields?.variables ?? []).includes(form.name) && <option value={form.name}>{form.name}</option>}
          </select>
        )}
        {form.kind === 'fixed' &&
          (target?.kind === 'bool' ? (
            <select aria-label={`Rule ${n}: fixed value`} data-testid="pick-value" value={form.value} onChange={(e) => set({ value: value(e) })}>
              <option value="">Yes or no…</option>
              <option value="true">Yes</option>
              <option value="false">No</option>
            </select>
          ) : (
            <input
              aria-label={`Rule ${n}: fixed value`}
              data-testid="pick-value"
              value={form.value}
              inputMode={target?.kind === 'number' ? 'decimal' : undefined}
              placeholder={target?.kind === 'date' ? 'YYYY-MM-DD' : target?.kind === 'number' ? '0.00' : 'Text'}
              onInput={(e) => set({ value: value(e) })}
            />
          ))}
      </div>
      <p class="pick-jq">
        {missing ? (
          <span class="hint">To finish: {missing}.</span>
        ) : (
          <>
            <span class="muted">jq</span> <code data-testid="rule-jq">{expr}</code>
          </>
        )}
      </p>
    </div>
  );
}
