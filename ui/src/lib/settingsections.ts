// How the Settings screen sorts an instance's spec into its sections. The server variables
// an operator chooses (which income account, which vendor, which tax code) go to
// "QuickBooks defaults", grouped by the modules that use them; the ones that only say how a
// request is built (the realm id every call carries, the DetailType of a line) go to
// "Advanced", where they are out of the way but still editable.

import type { Variable } from '../bindings/Variable';

/** The sections of the Settings screen, in the order they appear and the contents lists them. */
export const SETTINGS_SECTIONS = [
  ['settings-connection', 'Connection'],
  ['settings-defaults', 'QuickBooks defaults'],
  ['settings-syncs', 'What syncs'],
  ['settings-schedule', 'Schedule'],
  ['settings-advanced', 'Advanced'],
  ['danger-zone', 'Danger zone'],
  ['app-preferences', 'App preferences'],
] as const;

/**
 * Variables of the built-in spec that are part of QuickBooks' wire format rather than a
 * business choice: the line DetailTypes have one right value for the entities the spec sends.
 */
const WIRE_FORMAT = new Set(['Invoice Line Type', 'Order Line Type']);

/** Whether a variable is technical: used by every call (the realm id) or part of the wire format. */
export function isTechnical(variable: Variable): boolean {
  return variable.used_by.length === 0 || variable.used_by.includes('all') || WIRE_FORMAT.has(variable.name);
}

export type VariableGroup = { modules: string[]; variables: Variable[] };

/**
 * The operator's variables grouped by the modules that use them, in the spec's module order
 * (a variable of several modules joins the group of exactly those modules, after the group
 * of its first); and the technical ones apart. Within a group the spec's order is kept.
 */
export function groupVariables(variables: Variable[], moduleOrder: string[]): { defaults: VariableGroup[]; advanced: Variable[] } {
  const rank = (module: string) => {
    const at = moduleOrder.indexOf(module);
    return at < 0 ? moduleOrder.length : at;
  };
  const groups = new Map<string, VariableGroup>();
  const advanced: Variable[] = [];
  for (const variable of variables) {
    if (isTechnical(variable)) {
      advanced.push(variable);
      continue;
    }
    const modules = [...new Set(variable.used_by)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const key = modules.join('\u0000');
    const group = groups.get(key);
    if (group) group.variables.push(variable);
    else groups.set(key, { modules, variables: [variable] });
  }
  const order = (group: VariableGroup) => group.modules.map(rank);
  const defaults = [...groups.values()].sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    const differs = x.findIndex((rankOfA, i) => i < y.length && rankOfA !== y[i]);
    if (differs >= 0) return (x[differs] ?? 0) - (y[differs] ?? 0);
    return x.length - y.length || a.modules.join().localeCompare(b.modules.join());
  });
  return { defaults, advanced };
}

/**
 * A variable the spec says is required, with neither a value nor a default: the modules
 * that use it fail until the operator sets it, so the screen marks it.
 */
export function needsValue(variable: Variable, value: string | undefined): boolean {
  return !variable.default && !(value ?? '').trim() && /\brequired\b/i.test(variable.description);
}
