import { describe, expect, it } from 'vitest';
import type { FieldView } from '../bindings/FieldView';
import { columnToOffset, jqCompletions, jqPath, markRange, type JqVocabulary } from './jq';

const field = (path: string, label = path): FieldView => ({ path, label, kind: 'text', required: false, or_instead: [], refers_to: null });

const vocabulary: JqVocabulary = {
  fields: [field('Name'), field('Address.City'), field('Address.PostalCode'), field('Odd name')],
  helpers: [
    { name: 'link', signature: 'link("Module"; .SomeId)', summary: 'the QuickBooks id' },
    { name: 'lookup_or', signature: 'lookup_or("table"; value; default)', summary: 'translated' },
  ],
  variables: ['Income Account', 'Terms'],
  lookups: ['currency'],
  modules: ['Accounts'],
  platformModules: ['Accounts', 'Contacts'],
};

const labels = (before: string, explicit = false) => jqCompletions(before, vocabulary, explicit)?.options.map((o) => o.label) ?? null;

describe('jq completion', () => {
  it("offers the record's fields after a dot, dotted, replacing what was typed", () => {
    const found = jqCompletions('.Name + " " + .Add', vocabulary)!;
    expect(found.from).toBe('.Name + " " + .'.length);
    expect(found.options.map((o) => o.label)).toContain('Address.City');
    expect(labels('if .IsTaxable then .')).toContain('Name');
    // A part jq cannot write bare is completed in its bracket form.
    expect(found.options.find((o) => o.label === 'Odd name')?.apply).toBe('["Odd name"]');
  });

  it("offers the connector's helpers and jq's functions in a word", () => {
    const found = jqCompletions('.Name | lin', vocabulary)!;
    expect(found.from).toBe('.Name | '.length);
    expect(found.options.find((o) => o.label === 'link')).toMatchObject({ type: 'function', detail: 'link("Module"; .SomeId)', apply: 'link(' });
    expect(labels('.Name | asc')).toContain('ascii_downcase');
    expect(labels('if .X th')).toContain('then');
  });

  it('offers the names a helper takes inside its first string', () => {
    expect(labels('var("In')).toEqual(['Income Account', 'Terms']);
    expect(jqCompletions('var("In', vocabulary)!.from).toBe('var("'.length);
    expect(labels('lookup_or( "')).toEqual(['currency']);
    expect(labels('link("')).toEqual(['Accounts']);
    expect(labels('record("')).toEqual(['Accounts', 'Contacts']);
  });

  it('offers nothing inside other strings, after a number or with nothing typed', () => {
    expect(labels('"Dear .Na')).toBeNull();
    expect(labels('1.')).toBeNull();
    expect(labels('.Name + ')).toBeNull();
    // Asked for (Ctrl-Space), fields come first, then functions.
    expect(labels('.Name + ', true)?.slice(0, 2)).toEqual(['.Name', '.Address.City']);
  });

  it('writes paths as jq does', () => {
    expect(jqPath('Address.City')).toBe('.Address.City');
    expect(jqPath('Odd name.Post-code')).toBe('.["Odd name"].["Post-code"]');
  });
});

describe("a problem's column in the editor", () => {
  it('counts characters as the connector does, a newline as one', () => {
    expect(columnToOffset('.Name |||', 7)).toBe(6);
    expect(columnToOffset('.a\n| .b)', 7)).toBe(6);
    expect(columnToOffset('"€" + .x', 5)).toBe(4);
    // Beyond the BMP a character is two UTF-16 units in the editor and one column.
    expect(columnToOffset('"😀" + (', 7)).toBe(7);
    expect(columnToOffset('.a', 99)).toBe(2);
  });
});

describe('the mark of a problem', () => {
  it('covers the misspelt name at the column, one character elsewhere, a point at the end', () => {
    expect(markRange('.Phone | ascii_downcas', 10)).toEqual({ from: 9, to: 22 });
    expect(markRange('.a + )', 6)).toEqual({ from: 5, to: 6 });
    expect(markRange('link("Accounts"; .Id', 21)).toEqual({ from: 20, to: 20 });
    expect(markRange('"😀" | 😀', 7)).toEqual({ from: 7, to: 9 });
  });
});
