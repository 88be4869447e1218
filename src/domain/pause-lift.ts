// Who lifts a pause, for pipelines and schedules alike: whoever made it, or an identity with the
// kind's `_any` permission (an operator). An operator's hold during an incident is not the
// owner's to lift, however much the owner may pause and resume its own.
import { ForbiddenError } from './errors.js';
import { can, type Identity, type Permission } from './identity.js';

export interface PauseLift {
  kind: 'pipeline' | 'schedule';
  id: string;
  /** Who asks to resume. */
  identity: Pick<Identity, 'id' | 'name' | 'roles'>;
  /** Who made the pause (an identity id); null or undefined: not paused, or paused before this was recorded. */
  pausedBy: string | null | undefined;
  /** The permission that lifts any pause of the kind (`pause_any`, `schedule_any`). */
  anyPermission: Permission;
  /** Where the answer shows who paused it (`paused.by`, `pausedBy`): the error's detail names it. */
  field: string;
}

/** The 403 a resume of someone else's pause gets; null when `identity` may lift it. */
export function pauseLiftRefusal({ kind, id, identity, pausedBy, anyPermission, field }: PauseLift): ForbiddenError | null {
  if (!pausedBy || pausedBy === identity.id || can(identity, anyPermission)) return null;
  return new ForbiddenError(
    'FORBIDDEN',
    `${identity.name} may not resume ${kind} ${id}: ${pausedBy} paused it; only they or an operator may resume it.`,
    { details: [{ field, message: `paused by ${pausedBy}` }] },
  );
}
