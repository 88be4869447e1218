// Who lifts a pause, for pipelines and schedules alike: whoever made it, or an identity with the
// kind's `_any` permission (an operator). An operator's hold during an incident is not the
// owner's to lift, however much the owner may pause and resume its own. Pure and import-free:
// the dashboard shows its Resume buttons by the same predicate.

/**
 * Whether the identity `identityId` may lift a pause `pausedBy` made (null or undefined: not
 * paused, or paused before who paused was recorded), `hasAny`: it holds the kind's `_any`
 * permission (`pause_any`, `schedule_any`).
 */
export function mayLiftPause(identityId: string, pausedBy: string | null | undefined, hasAny: boolean): boolean {
  return !pausedBy || pausedBy === identityId || hasAny;
}
