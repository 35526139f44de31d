import type { temporal } from '@temporalio/proto';

/** The activities a workflow's history shows completed, by type, in order. */
export function completedActivities(events: temporal.api.history.v1.IHistoryEvent[]): string[] {
  const types = new Map<string, string>();
  for (const e of events)
    if (e.activityTaskScheduledEventAttributes)
      types.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
  return events.flatMap((e) =>
    e.activityTaskCompletedEventAttributes
      ? [types.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId)) ?? '?']
      : [],
  );
}
