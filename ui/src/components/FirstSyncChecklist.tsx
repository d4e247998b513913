// The first-sync checklist on Home: connect, choose from the company by name what the
// mappings need (the ids stay behind the scenes), preview, first sync. Shown until a first
// sync has sent records.

import { api, asApiError } from '../api';
import type { InstanceChanges } from '../bindings/InstanceChanges';
import type { SetupChoice } from '../bindings/SetupChoice';
import type { SetupView } from '../bindings/SetupView';
import { choiceLabel, setupSteps, wasPreviewed } from '../lib/setup';
import { Section, type Notify } from './common';
import { CompanyRecordSelect } from './CompanyRecordSelect';

const onlyVariable = (variable: string, value: string): InstanceChanges => ({
  environment: null,
  company_id: null,
  client_id: null,
  client_secret: null,
  redirect_uri: null,
  variables: { [variable]: value },
  methods: [],
  conflict_policies: {},
});

function ChoiceField({ name, choice, connected, notify, onChosen }: {
  name: string;
  choice: SetupChoice;
  connected: boolean;
  notify: Notify;
  onChosen: () => void;
}) {
  const choose = async (id: string) => {
    try {
      await api.updateInstance(name, onlyVariable(choice.variable, id));
      onChosen();
    } catch (error) {
      notify(asApiError(error));
    }
  };
  return (
    <label class="setup-choice" data-testid="setup-choice" data-variable={choice.variable} data-value={choice.value} data-required={String(choice.required)}>
      <span>
        {choiceLabel(choice)} {choice.required ? <span class="badge required">required</span> : <span class="hint">(optional)</span>}
      </span>
      {connected ? (
        <CompanyRecordSelect
          instance={name}
          variable={choice.variable}
          value={choice.value}
          empty={choice.required ? 'Choose…' : 'None (the company’s default)'}
          testId="setup-choice-select"
          onChoose={choose}
        />
      ) : (
        <select data-testid="setup-choice-select" disabled>
          <option>Connect first</option>
        </select>
      )}
    </label>
  );
}

export function FirstSyncChecklist({ view, notify, onOpen, onChanged }: {
  view: SetupView;
  notify: Notify;
  onOpen: (screen: 'connection' | 'sync') => void;
  onChanged: () => void;
}) {
  const steps = setupSteps(view, wasPreviewed(view.instance));
  const connected = view.connection === 'connected';
  const choices = [...view.choices].sort((a, b) => Number(b.required) - Number(a.required));
  return (
    <Section title="Your first sync" testId="setup-checklist">
      <ol class="setup-steps">
        {steps.map((step) => (
          <li key={step.id} class={step.done ? 'done' : ''} data-testid={`setup-step-${step.id}`} data-done={String(step.done)}>
            <strong>
              <span aria-hidden="true">{step.done ? '✓ ' : '○ '}</span>
              {step.title}
            </strong>
            <span class="hint"> {step.hint}</span>
            {step.id === 'connect' && !step.done && (
              <button type="button" data-testid="setup-open-connection" onClick={() => onOpen('connection')}>
                Open Connection
              </button>
            )}
            {step.id === 'choose' && choices.length > 0 && (
              <div class="setup-choices">
                {choices.map((choice) => (
                  <ChoiceField key={choice.variable} name={view.instance} choice={choice} connected={connected} notify={notify} onChosen={onChanged} />
                ))}
              </div>
            )}
            {step.id === 'preview' && !view.first_sync && (
              <button type="button" data-testid="setup-open-preview" onClick={() => onOpen('sync')}>
                Open Sync to preview
              </button>
            )}
          </li>
        ))}
      </ol>
    </Section>
  );
}
