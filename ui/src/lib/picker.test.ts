import { describe, expect, it } from 'vitest';
import type { FieldKind } from '../bindings/FieldKind';
import type { FieldView } from '../bindings/FieldView';
import type { Pick } from '../bindings/Pick';
// The same cases the connector's test writes as jq (crates/connector/src/spec/pick.rs):
// the form here makes the pick there, and the connector writes that pick as that jq.
import cases from '../../../crates/connector/src/spec/pick_cases.json';
import { fixedValue, formToPick, pickKinds, pickToForm, requiredTarget, switchKind, targetChoices, targetWords, type PickForm } from './picker';

interface Case {
  about: string;
  target_kind: FieldKind;
  form: PickForm;
  pick: Pick;
  jq: string;
}

const field = (path: string, kind: FieldKind, extra: Partial<FieldView> = {}): FieldView => ({
  path,
  label: path,
  kind,
  required: false,
  or_instead: [],
  refers_to: null,
  ...extra,
});

describe('the field picker', () => {
  it('covers every kind of pick with the shared cases', () => {
    const kinds = new Set((cases as Case[]).map((c) => c.pick.pick));
    expect([...kinds].sort()).toEqual(['field', 'fixed', 'link', 'lookup', 'variable']);
  });

  for (const c of cases as Case[]) {
    it(`makes the pick for ${c.about} (written as ${c.jq}) and opens it again`, () => {
      expect(formToPick(c.form, c.target_kind)).toEqual({ pick: c.pick });
      expect(pickToForm(c.pick)).toEqual(c.form);
    });
  }

  it('says what a form still needs instead of writing half a rule', () => {
    const empty: PickForm = { kind: 'field', path: '', value: '', name: '', table: '', module: '' };
    expect(formToPick(empty, 'text')).toEqual({ missing: 'choose a platform field' });
    expect(formToPick({ ...empty, kind: 'lookup', path: 'Currency.Mnemonic' }, 'reference')).toEqual({ missing: 'choose a lookup table' });
    expect(formToPick({ ...empty, kind: 'link', module: 'Accounts' }, 'reference')).toEqual({
      missing: "choose the platform field holding the record's id",
    });
    expect(formToPick({ ...empty, kind: 'variable' }, 'text')).toEqual({ missing: 'choose a server variable' });
    expect(formToPick({ ...empty, kind: 'fixed', value: 'twelve' }, 'number')).toEqual({ missing: '"twelve" is not a number' });
  });

  it('types a fixed value by the field it fills', () => {
    expect(fixedValue('0012.50', 'number')).toEqual({ value: 12.5 });
    expect(fixedValue('', 'number')).toEqual({ error: '"" is not a number' });
    expect(fixedValue('false', 'bool')).toEqual({ value: false });
    expect(fixedValue('2024-02-29', 'date')).toEqual({ value: '2024-02-29' });
    expect(fixedValue('29/02/2024', 'date')).toEqual({ error: '"29/02/2024" is not a date (YYYY-MM-DD)' });
    // Text stays text, even when it looks like a number: a DocNumber "0042" keeps its zeros.
    expect(fixedValue('0042', 'text')).toEqual({ value: '0042' });
  });

  it('offers lookups and links only to pushes', () => {
    expect(pickKinds('push_create')).toEqual(['field', 'fixed', 'variable', 'lookup', 'link']);
    expect(pickKinds('pull_update')).toEqual(['field', 'fixed', 'variable']);
  });

  it('switching to a link keeps an id field and finds the module that syncs its record', () => {
    const sources = [field('Name', 'text'), field('AccountId', 'reference', { refers_to: 'Accounts' })];
    const modules = [{ name: 'Accounts', entity: 'Customer', platform_module: 'Accounts' }];
    const form: PickForm = { kind: 'field', path: 'Name', value: '', name: '', table: '', module: '' };
    expect(switchKind(form, 'link', sources, modules)).toEqual({ ...form, kind: 'link', path: 'AccountId', module: 'Accounts' });
    expect(switchKind({ ...form, path: 'AccountId' }, 'lookup', sources, modules)).toEqual({ ...form, kind: 'lookup', path: 'AccountId' });
  });

  it('lists required fields no rule sets first, and names the rules that set the others', () => {
    const targets = [field('DocNumber', 'text'), field('CustomerRef.value', 'reference', { required: true }), field('TxnDate', 'date')];
    const choices = targetChoices(targets, [{ target: 'DocNumber', expr: '.Number', note: null }]);
    expect(choices.map((c) => [c.field.path, c.rules])).toEqual([
      ['CustomerRef.value', []],
      ['TxnDate', []],
      ['DocNumber', [1]],
    ]);
    expect(targetWords(field('GivenName', 'text', { label: 'First name', required: true, or_instead: ['DisplayName'] }), 'GivenName')).toEqual({
      label: 'First name',
      required: 'QuickBooks needs this or one of DisplayName on a new record',
    });
    expect(targetWords(undefined, 'Colour')).toEqual({ label: 'Colour', required: null });
  });

  it('adds a rule for a required field no rule fills where QuickBooks reads it', () => {
    const targets = [field('DisplayName', 'text', { required: true }), field('CustomerRef.value', 'reference', { required: true }), field('CustomerRef.name', 'text')];
    // A reference is filled by its id, not its shown name.
    expect(requiredTarget(targets, ['CustomerRef'])).toBe('CustomerRef.value');
    // Of several that would do, the first.
    expect(requiredTarget(targets, ['DisplayName', 'GivenName'])).toBe('DisplayName');
    // An entity the catalog does not know: the name as QuickBooks gives it.
    expect(requiredTarget([], ['VendorRef'])).toBe('VendorRef');
  });
});
