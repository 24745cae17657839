// How a member's role shows beside the nick, in the member panel and in /who (as IRC clients mark them).

import type {Role} from '../client/types.js';

export const ROLE_MARKS: Record<Role, string> = {owner: '~', op: '@', voice: '+'};
