// A run's problems as an operator reads them: one line per module and cause, and where it
// is fixed. The grouping and the fix are the connector's (`ProblemGroup`); the words are here.

import type { ProblemGroup } from '../bindings/ProblemGroup';

/** Where a Fix button leads. */
export type FixTarget =
  | { screen: 'settings'; variable: string }
  | { screen: 'mappings'; module: string }
  | { screen: 'conflicts' };

/** "8 Products could not be sent: …", "20 Invoices wait for …", "1 Accounts held: …". */
export function problemHeadline(group: ProblemGroup): string {
  const count = group.records.length;
  switch (group.outcome) {
    case 'held':
      return `${count} ${group.module} held: ${group.cause}`;
    case 'blocked':
      return `${count} ${group.module} ${count === 1 ? 'waits' : 'wait'}: ${group.cause}`;
    default: {
      const refused = group.code ? ` (QuickBooks ${group.code}${group.element ? `, field ${group.element}` : ''})` : '';
      return `${count} ${group.module} could not be synced${refused}: ${group.cause}`;
    }
  }
}

/** The Fix button of a group: its words and where it leads; null when nothing but waiting helps. */
export function problemFix(group: ProblemGroup): { label: string; target: FixTarget } | null {
  const fix = group.fix;
  if (!fix) return null;
  switch (fix.kind) {
    case 'choose':
      return { label: `Choose ${fix.variable}`, target: { screen: 'settings', variable: fix.variable } };
    case 'mapping':
      return { label: `Open the ${fix.module} mapping of ${fix.field}`, target: { screen: 'mappings', module: fix.module } };
    case 'conflicts':
      return { label: 'Open Conflicts', target: { screen: 'conflicts' } };
  }
}
