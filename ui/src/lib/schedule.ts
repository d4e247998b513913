// The schedule form's fields and the Schedule the shell stores, both ways.

import type { Schedule } from '../bindings/Schedule';

export type ScheduleForm = {
  mode: 'manual' | 'every' | 'daily';
  minutes: string;
  at: string;
  quiet: boolean;
  quietFrom: string;
  quietTo: string;
  paused: boolean;
};

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;

export function formFromSchedule(schedule: Schedule): ScheduleForm {
  const cadence = schedule.cadence;
  return {
    mode: cadence.kind,
    minutes: cadence.kind === 'every' ? String(cadence.minutes) : '60',
    at: cadence.kind === 'daily' ? cadence.at : '02:00',
    quiet: schedule.quiet_hours !== null,
    quietFrom: schedule.quiet_hours?.from ?? '22:00',
    quietTo: schedule.quiet_hours?.to ?? '06:00',
    paused: schedule.paused,
  };
}

/** The Schedule of a filled-in form, or the first problem in words the form can show. */
export function scheduleFromForm(form: ScheduleForm): { schedule: Schedule } | { error: string } {
  let cadence: Schedule['cadence'];
  if (form.mode === 'every') {
    const minutes = Number(form.minutes);
    if (!Number.isInteger(minutes) || minutes < 5 || minutes > 1440) {
      return { error: 'Every: give a whole number of minutes from 5 to 1440.' };
    }
    cadence = { kind: 'every', minutes };
  } else if (form.mode === 'daily') {
    if (!CLOCK.test(form.at)) return { error: 'Daily at: write the time as HH:MM, e.g. 02:30.' };
    cadence = { kind: 'daily', at: form.at };
  } else {
    cadence = { kind: 'manual' };
  }
  let quietHours: Schedule['quiet_hours'] = null;
  if (form.quiet) {
    if (!CLOCK.test(form.quietFrom) || !CLOCK.test(form.quietTo)) {
      return { error: 'Quiet hours: write both times as HH:MM.' };
    }
    if (form.quietFrom === form.quietTo) return { error: 'Quiet hours: the start and the end are the same time.' };
    quietHours = { from: form.quietFrom, to: form.quietTo };
  }
  return { schedule: { cadence, quiet_hours: quietHours, paused: form.paused } };
}

export function describeSchedule(schedule: Schedule): string {
  const cadence = schedule.cadence;
  const base =
    cadence.kind === 'every'
      ? `every ${cadence.minutes} min`
      : cadence.kind === 'daily'
        ? `daily at ${cadence.at}`
        : 'only when asked';
  if (cadence.kind === 'manual') return base;
  return schedule.paused ? `${base} (paused)` : base;
}
