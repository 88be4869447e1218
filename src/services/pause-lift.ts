// The 403 of a resume the pause-lift rule (domain/pause-lift.ts) refuses, worded once for the
// pipeline and schedule services.
import { mayLiftPause } from '../domain/pause-lift.js';
import { ForbiddenError } from '../domain/errors.js';
import { can, type Identity, type Permission } from '../domain/identity.js';

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
  if (mayLiftPause(identity.id, pausedBy, can(identity, anyPermission))) return null;
  return new ForbiddenError(
    'FORBIDDEN',
    `${identity.name} may not resume ${kind} ${id}: ${pausedBy} paused it; only they or an operator may resume it.`,
    { details: [{ field, message: `paused by ${pausedBy}` }] },
  );
}
