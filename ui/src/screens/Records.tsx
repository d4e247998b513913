// The platform records of a module: searchable, virtualized (fast at 100,000), editable,
// with CSV import (every row problem shown) and export.

import { useEffect, useState } from 'preact/hooks';
import { api, asApiError, MODULES, type Module, type PlatformRecord } from '../api';
import { Section, type Notify } from '../components/common';
import { VirtualList } from '../components/VirtualList';
import { debounce } from '../lib/debounce';
import { recordTitle } from './Mappings';

const ROW_HEIGHT = 36;
const searchLater = debounce((set: (s: string) => void, text: string) => set(text), 250);

export function Records({ notify }: { notify: Notify }) {
  const [module, setModule] = useState<Module>('Accounts');
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  const [total, setTotal] = useState(0);
  const [generation, setGeneration] = useState(0);
  const [selected, setSelected] = useState<PlatformRecord | null>(null);
  const [draft, setDraft] = useState('');
  // The rows a refused import named, one a line, kept until the next import.
  const [importProblems, setImportProblems] = useState<{ file: string; rows: string[] } | null>(null);

  useEffect(() => {
    api.records(module, search, 0, 0).then((page) => setTotal(page.total), (e) => notify(asApiError(e)));
  }, [module, search, generation, notify]);

  const open = (record: PlatformRecord | null) => {
    setSelected(record);
    setDraft(record ? JSON.stringify(record.data, null, 2) : '{\n  \n}');
  };

  const save = async () => {
    let data;
    try {
      data = JSON.parse(draft);
    } catch (error) {
      notify({ code: 'validation', message: `The record is not valid JSON: ${(error as Error).message}`, detail: null });
      return;
    }
    try {
      const saved = selected
        ? await api.updateRecord(module, selected.id, data, selected.version)
        : await api.createRecord(module, data);
      open(saved);
      setGeneration((g) => g + 1);
      notify(`${recordTitle(saved)} saved.`);
    } catch (error) {
      notify(asApiError(error));
    }
  };

  const remove = async () => {
    if (!selected || !window.confirm(`Delete ${recordTitle(selected)}? The next push deletes or deactivates it in QuickBooks.`)) return;
    try {
      await api.deleteRecord(module, selected.id);
      open(null);
      setSelected(null);
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

  return (
    <div class="screen split">
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
        <VirtualList<PlatformRecord>
          total={total}
          rowHeight={ROW_HEIGHT}
          version={`${module}|${search}|${generation}`}
          label={`${module} records`}
          fetchPage={(offset, limit) => api.records(module, search, offset, limit).then((page) => page.records)}
          renderRow={(record) =>
            record ? (
              <button
                type="button"
                class={`record-row ${selected?.id === record.id ? 'selected' : ''}`}
                data-testid="record-row"
                onClick={() => open(record)}
              >
                <span>{recordTitle(record)}</span>
                <span class="hint">v{record.version}</span>
              </button>
            ) : (
              <span class="hint">…</span>
            )
          }
        />
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
      <Section title={selected ? `Edit ${recordTitle(selected)}` : 'New record'}>
        <label>
          Fields (JSON)
          <textarea data-testid="record-json" class="mono" rows={18} value={draft} onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)} />
        </label>
        <div class="actions">
          {selected && (
            <button type="button" class="danger" onClick={remove}>
              Delete
            </button>
          )}
          <button type="button" class="primary" data-testid="record-save" onClick={save}>
            Save
          </button>
        </div>
      </Section>
      </div>
    </div>
  );
}
