// The platform records of a module as a table (searchable, virtualized: fast at 100,000)
// with where each stands in the current instance's QuickBooks company, a form per module
// made from its schema (the JSON under Advanced), and CSV import (every row problem shown)
// and export.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, asApiError, MODULES, type InstanceView, type Module, type PlatformRecord } from '../api';
import type { RecordField } from '../bindings/RecordField';
import type { SyncStatus } from '../bindings/SyncStatus';
import type { JsonValue } from '../bindings/serde_json/JsonValue';
import { Section, type Notify } from '../components/common';
import { VirtualList } from '../components/VirtualList';
import { debounce } from '../lib/debounce';
import {
  cellText,
  columnsFor,
  fieldErrors,
  formFields,
  formPaths,
  gridColumns,
  inputText,
  isObject,
  jsonText,
  linePath,
  linesEditable,
  objectEditable,
  parseJson,
  referencedIds,
  statusLabel,
  storedValue,
  withField,
  withInner,
  withLineAdded,
  withLineField,
  withLineRemoved,
  type FieldErrors,
  type FormField,
  type JsonObject,
} from '../lib/records';
import { recordTitle } from './Mappings';

// Up to three lines of text a cell: a long name wraps rather than being cut.
const ROW_HEIGHT = 58;
const searchLater = debounce((set: (s: string) => void, text: string) => set(text), 250);

/**
 * A row of the table: the record, where it stands (`null` with no instance), and the names of
 * the records its id columns name (read a page at a time).
 */
type Row = { record: PlatformRecord; status: SyncStatus | null; names: Map<string, string> };

const NO_ERRORS: FieldErrors = { fields: {}, general: [] };

export function Records({ notify, instance }: { notify: Notify; instance: InstanceView | null }) {
  const [module, setModule] = useState<Module>('Accounts');
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  const [total, setTotal] = useState(0);
  const [generation, setGeneration] = useState(0);
  const [schema, setSchema] = useState<RecordField[] | null>(null);
  const [selected, setSelected] = useState<PlatformRecord | null>(null);
  const [data, setData] = useState<JsonObject>({});
  const [draft, setDraft] = useState('{}');
  const [draftError, setDraftError] = useState<string | null>(null);
  const [advanced, setAdvanced] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>(NO_ERRORS);
  // The rows a refused import named, one a line, kept until the next import.
  const [importProblems, setImportProblems] = useState<{ file: string; rows: string[] } | null>(null);
  const form = useRef<HTMLFormElement>(null);
  const name = instance?.name ?? null;
  const columns = columnsFor(module);

  useEffect(() => {
    api.records(module, search, 0, 0).then((page) => setTotal(page.total), (e) => notify(asApiError(e)));
  }, [module, search, generation, notify]);

  useEffect(() => {
    setSchema(null);
    api.recordFields(module).then(setSchema, (e) => {
      // Without the schema the record is still editable as JSON.
      notify(asApiError(e));
      setAdvanced(true);
    });
  }, [module, notify]);

  // A refused save is answered where the operator looks next: the first reason, in view.
  useEffect(() => {
    if (errors.general.length || Object.keys(errors.fields).length) {
      form.current?.querySelector('.field-error')?.scrollIntoView({ block: 'center' });
    }
  }, [errors]);

  const fields = useMemo(() => (schema ? formFields(schema, selected === null) : []), [schema, selected]);

  const show = (next: JsonObject) => {
    setData(next);
    setDraft(jsonText(next));
    setDraftError(null);
  };

  const open = (record: PlatformRecord | null) => {
    setSelected(record);
    setErrors(NO_ERRORS);
    show(record && isObject(record.data) ? record.data : {});
  };

  const typeJson = (text: string) => {
    setDraft(text);
    const read = parseJson(text);
    if ('data' in read) {
      setData(read.data);
      setDraftError(null);
    } else {
      setDraftError(read.error);
    }
  };

  const save = async () => {
    if (draftError) {
      setErrors({ fields: {}, general: [draftError] });
      setAdvanced(true);
      return;
    }
    setErrors(NO_ERRORS);
    try {
      const saved = selected
        ? await api.updateRecord(module, selected.id, data, selected.version)
        : await api.createRecord(module, data);
      open(saved);
      setGeneration((g) => g + 1);
      notify(`${recordTitle(saved)} saved.`);
    } catch (error) {
      const problem = asApiError(error);
      const placed = problem.code === 'validation' ? fieldErrors(problem.message, formPaths(fields)) : { fields: {}, general: [problem.message] };
      setErrors(placed);
    }
  };

  const remove = async () => {
    if (!selected || !window.confirm(`Delete ${recordTitle(selected)}? The next push deletes or deactivates it in QuickBooks.`)) return;
    try {
      await api.deleteRecord(module, selected.id);
      open(null);
      setGeneration((g) => g + 1);
    } catch (error) {
      notify(asApiError(error));
    }
  };

  const importFile = async (file: File | undefined) => {
    if (!file) return;
    setImportProblems(null);
    try {
      const report = await api.importCsv(module, await file.text());
      notify(`${file.name}: ${report.created} created, ${report.updated} updated, ${report.unchanged} unchanged.`);
      setGeneration((g) => g + 1);
    } catch (error) {
      const problem = asApiError(error);
      if (problem.code === 'validation' && problem.detail) {
        setImportProblems({ file: file.name, rows: problem.detail.split('\n') });
        notify(`${file.name}: ${problem.message}. The rows are listed beside the records.`);
      } else {
        notify(problem);
      }
    }
  };

  const exportFile = async () => {
    try {
      const text = await api.exportCsv(module);
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
      link.download = `${module.toLowerCase()}.csv`;
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (error) {
      notify(asApiError(error));
    }
  };

  // A page of records, then where each stands for the instance and whom its id columns name:
  // a call each a page. Either failing leaves its column as it was (a dash, the ids).
  const fetchPage = async (offset: number, limit: number): Promise<Row[]> => {
    const { records } = await api.records(module, search, offset, limit);
    if (records.length === 0) return [];
    const [statuses, named] = await Promise.all([
      name ? api.recordStatus(name, module, records.map((r) => r.id)).catch(() => []) : Promise.resolve([]),
      Promise.all([...referencedIds(columns, records)].map(([refers, ids]) => (ids.length ? api.recordNames(refers, ids).catch(() => []) : []))),
    ]);
    const byId = new Map(statuses.map((s) => [s.id, s.status]));
    const names = new Map(named.flat());
    return records.map((record) => ({ record, status: byId.get(record.id) ?? null, names }));
  };

  const grid = { gridTemplateColumns: gridColumns(columns) };

  return (
    <div class="screen split records">
      <Section
        title="Records"
        actions={
          <>
            <button type="button" onClick={() => open(null)}>
              New
            </button>
            <label class="button">
              Import CSV…
              <input type="file" accept=".csv,text/csv" class="sr-only" onChange={(e) => {
                  const input = e.target as HTMLInputElement;
                  importFile(input.files?.[0]);
                  // The same file, corrected, can be chosen again.
                  input.value = '';
                }} />
            </label>
            <button type="button" onClick={exportFile}>
              Export CSV
            </button>
          </>
        }
      >
        <div class="toolbar">
          <label>
            Module
            <select
              data-testid="records-module"
              value={module}
              onChange={(e) => {
                setModule((e.target as HTMLSelectElement).value as Module);
                // The draft was of the other module's record: start a new one here.
                open(null);
                setImportProblems(null);
              }}
            >
              {MODULES.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </label>
          <label class="grow">
            Search
            <input
              type="search"
              data-testid="records-search"
              value={typed}
              placeholder="Name, number…"
              onInput={(e) => {
                const text = (e.target as HTMLInputElement).value;
                setTyped(text);
                searchLater(setSearch, text);
              }}
            />
          </label>
          <span class="hint" aria-live="polite">
            {total.toLocaleString()} records
          </span>
        </div>
        <div class="records-table" data-testid="records-table" data-module={module}>
          <div class="records-head" style={grid} aria-hidden="true">
            {columns.map((c) => (
              <span key={c.key} class={`cell ${c.kind}`}>
                {c.label}
              </span>
            ))}
          </div>
          <VirtualList<Row>
            total={total}
            rowHeight={ROW_HEIGHT}
            version={`${module}|${search}|${generation}|${name ?? ''}`}
            label={`${module} records`}
            fetchPage={fetchPage}
            renderRow={(row) =>
              row ? (
                <button
                  type="button"
                  class={`record-row ${selected?.id === row.record.id ? 'selected' : ''}`}
                  style={grid}
                  data-testid="record-row"
                  data-record-id={row.record.id}
                  onClick={() => open(row.record)}
                >
                  {columns.map((c) =>
                    c.kind === 'status' ? (
                      <span
                        key={c.key}
                        class={`cell status status-${row.status ?? 'none'}`}
                        data-testid="record-status"
                        data-status={row.status ?? 'none'}
                        title={name ? undefined : 'Pick an instance to see where each record stands in its QuickBooks company'}
                      >
                        {statusLabel(row.status)}
                      </span>
                    ) : (
                      <span key={c.key} class={`cell ${c.kind}`}>
                        {cellText(module, c, row.record.id, row.record.data, row.names)}
                      </span>
                    ),
                  )}
                </button>
              ) : (
                <span class="hint">…</span>
              )
            }
          />
        </div>
        {!name && <p class="hint">Pick an instance to see which records are in its QuickBooks company.</p>}
      </Section>
      <div class="side-stack">
        {importProblems && (
          <Section title={`${importProblems.file}: not imported`}>
            <p class="hint">Nothing of the file was written. Correct these rows and import it again.</p>
            <ul class="problem-list" data-testid="import-problems">
              {importProblems.rows.map((row, i) => (
                <li key={i}>{row}</li>
              ))}
            </ul>
          </Section>
        )}
        <Section title={selected ? `Edit ${recordTitle(selected)}` : `New ${module.replace(/s$/, '').toLowerCase()}`}>
          <form
            ref={form}
            class="record-form"
            data-testid="record-form"
            onSubmit={(e) => {
              e.preventDefault();
              save();
            }}
          >
            {errors.general.length > 0 && (
              <div class="field-error" role="alert" data-testid="record-errors">
                {errors.general.map((line, i) => (
                  <p key={i}>{line}</p>
                ))}
              </div>
            )}
            {schema === null && !advanced && <p class="hint">Reading the module's fields…</p>}
            {/* What the store sets (the stamps) is shown once there is something to show. */}
            {fields.filter((field) => !field.readOnly || data[field.name] !== undefined).map((field) => (
              <FormControl
                key={field.path}
                field={field}
                data={data}
                errors={errors.fields}
                onChange={show}
                onAdvanced={() => setAdvanced(true)}
              />
            ))}
            {fields.some((f) => f.required) && (
              <p class="hint">
                <span class="required-mark" aria-hidden="true">*</span> required
              </p>
            )}
            <details
              class="record-advanced"
              data-testid="record-advanced"
              open={advanced}
              onToggle={(e) => setAdvanced((e.target as HTMLDetailsElement).open)}
            >
              <summary>Advanced (JSON)</summary>
              <label>
                The record as JSON; the form follows what is written here.
                <textarea data-testid="record-json" class="mono" rows={16} value={draft} onInput={(e) => typeJson((e.target as HTMLTextAreaElement).value)} />
              </label>
              {draftError && <p class="field-error">{draftError}</p>}
            </details>
            <div class="actions">
              {selected && (
                <button type="button" class="danger" onClick={remove}>
                  Delete
                </button>
              )}
              <button type="submit" class="primary" data-testid="record-save">
                Save
              </button>
            </div>
          </form>
        </Section>
      </div>
    </div>
  );
}

function Reasons({ reasons }: { reasons: string[] | undefined }) {
  if (!reasons?.length) return null;
  return <p class="field-error">{reasons.join('; ')}</p>;
}

function Label({ field }: { field: FormField }) {
  return (
    <span class="field-name">
      {field.label}
      {field.required && (
        <span class="required-mark" title="required">
          {' '}*
        </span>
      )}
    </span>
  );
}

/** One input of a plain field (text, number, date, bool, an id), read-only where the store sets it. */
function Input({
  field,
  path,
  value,
  reasons,
  onValue,
}: {
  field: FormField;
  path: string;
  value: JsonValue | undefined;
  reasons: string[] | undefined;
  onValue: (value: JsonValue | undefined) => void;
}) {
  const invalid = reasons?.length ? true : undefined;
  if (field.kind === 'bool') {
    return (
      <div class="record-field" data-testid="record-field" data-field={path}>
        <label class="check">
          <input type="checkbox" checked={value === true} disabled={field.readOnly} onChange={(e) => onValue((e.target as HTMLInputElement).checked)} />
          <Label field={field} />
        </label>
        <Reasons reasons={reasons} />
      </div>
    );
  }
  const placeholder =
    field.kind === 'reference' && field.refersTo
      ? `${field.refersTo} id`
      : field.name === 'Id' && !field.readOnly
        ? 'Given when saved'
        : undefined;
  return (
    <label class="record-field" data-testid="record-field" data-field={path}>
      <Label field={field} />
      <input
        type={field.kind === 'date' ? 'date' : 'text'}
        inputMode={field.kind === 'number' ? 'decimal' : undefined}
        class={field.kind === 'number' ? 'number' : undefined}
        value={inputText(value)}
        readOnly={field.readOnly}
        aria-required={field.required && !field.readOnly ? true : undefined}
        aria-invalid={invalid}
        placeholder={placeholder}
        onInput={(e) => onValue(storedValue(field.kind, (e.target as HTMLInputElement).value))}
      />
      <Reasons reasons={reasons} />
    </label>
  );
}

/** A field of the record: a plain input, an object's fieldset, or the lines as a repeated group. */
function FormControl({
  field,
  data,
  errors,
  onChange,
  onAdvanced,
}: {
  field: FormField;
  data: JsonObject;
  errors: Record<string, string[]>;
  onChange: (data: JsonObject) => void;
  onAdvanced: () => void;
}) {
  const value = data[field.name];
  const onlyInAdvanced = (
    <p class="hint">
      Holds more than the form shows: edit it under{' '}
      <button type="button" class="link" onClick={onAdvanced}>
        Advanced (JSON)
      </button>
      .
    </p>
  );
  if (field.kind === 'object') {
    const inner = isObject(value) ? value : {};
    return (
      <fieldset class="record-fieldset" data-testid="record-field" data-field={field.path}>
        <legend>
          <Label field={field} />
        </legend>
        <Reasons reasons={errors[field.path]} />
        {objectEditable(value, field.fields)
          ? field.fields.map((f) => (
              <Input
                key={f.path}
                field={f}
                path={f.path}
                value={inner[f.name]}
                reasons={errors[f.path]}
                onValue={(v) => onChange(withInner(data, field.name, f.name, v))}
              />
            ))
          : onlyInAdvanced}
      </fieldset>
    );
  }
  if (field.kind === 'lines') {
    const lines = Array.isArray(value) ? value : [];
    const editable = linesEditable(value, field.fields);
    return (
      <fieldset class="record-fieldset record-lines" data-testid="record-field" data-field={field.path}>
        <legend>
          <Label field={field} />
        </legend>
        <Reasons reasons={errors[field.path]} />
        {editable ? (
          <>
            {lines.map((line, index) => {
              const number = index + 1;
              const fields = isObject(line) ? line : {};
              return (
                <div class="record-line" key={index} data-testid="record-line">
                  <div class="record-line-head">
                    <strong>Line {number}</strong>
                    <button type="button" class="ghost" onClick={() => onChange(withLineRemoved(data, field.name, index))}>
                      Remove
                    </button>
                  </div>
                  <div class="record-line-fields">
                    {field.fields.map((f) => {
                      const path = linePath(f.path, number);
                      return (
                        <Input
                          key={path}
                          field={f}
                          path={path}
                          value={fields[f.name]}
                          reasons={errors[path]}
                          onValue={(v) => onChange(withLineField(data, field.name, index, f.name, v))}
                        />
                      );
                    })}
                  </div>
                </div>
              );
            })}
            <div>
              <button type="button" onClick={() => onChange(withLineAdded(data, field.name))}>
                Add line
              </button>
            </div>
          </>
        ) : (
          <>
            <p class="hint">{lines.length} line{lines.length === 1 ? '' : 's'}, read-only here.</p>
            {onlyInAdvanced}
          </>
        )}
      </fieldset>
    );
  }
  return <Input field={field} path={field.path} value={value} reasons={errors[field.path]} onValue={(v) => onChange(withField(data, field.name, v))} />;
}
