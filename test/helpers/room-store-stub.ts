// TEST ONLY, TEMPORARY: the version-2 room methods of the account store, in
// memory, for a store that does not have them yet (the store helper's work on
// issue #11 lands separately). Methods the store has are left alone, so once
// it implements them the tests run against the real thing unchanged.
import {identityKey} from '../../source/protocol/names.js';
import {
	type AccountStore,
	RoomExistsError,
	type RoomSettings,
	type StoredRoom,
} from '../../server/store/account-store.js';

export function withRoomMethods<S extends AccountStore>(store: S): S {
	const rooms = new Map<string, StoredRoom>();
	const admins = new Set<string>();
	const memberships = new Map<string, string[]>();
	const markers = new Map<string, number>();
	const copy = <T>(value: T): T => structuredClone(value);
	const stub: Partial<AccountStore> = {
		async createRoom(room) {
			if (rooms.has(room.key)) throw new RoomExistsError(room.name);
			rooms.set(room.key, copy(room));
		},
		async getRoom(key) {
			const room = rooms.get(key);
			return room ? copy(room) : undefined;
		},
		async listRooms() {
			return [...rooms.values()].sort((a, b) => (a.key < b.key ? -1 : 1)).map(copy);
		},
		async saveRoomSettings(key: string, settings: RoomSettings) {
			const room = rooms.get(key);
			if (room) room.settings = copy(settings);
		},
		async removeRoom(key) {
			return rooms.delete(key);
		},
		async setAdmin(name, admin) {
			if (admin) admins.add(identityKey(name));
			else admins.delete(identityKey(name));
		},
		async isAdmin(name) {
			return admins.has(identityKey(name));
		},
		async addMembership(user, room) {
			const list = memberships.get(identityKey(user)) ?? [];
			if (!list.includes(room)) list.push(room);
			memberships.set(identityKey(user), list);
		},
		async removeMembership(user, room) {
			const list = memberships.get(identityKey(user)) ?? [];
			memberships.set(
				identityKey(user),
				list.filter((key) => key !== room),
			);
		},
		async membershipsOf(user) {
			return [...(memberships.get(identityKey(user)) ?? [])];
		},
		async setReadMarker(user, room, seq) {
			const key = `${identityKey(user)}\n${room}`;
			markers.set(key, Math.max(markers.get(key) ?? 0, seq));
		},
		async readMarker(user, room) {
			return markers.get(`${identityKey(user)}\n${room}`) ?? 0;
		},
	};
	const target = store as unknown as Record<string, unknown>;
	for (const [name, method] of Object.entries(stub))
		if (typeof target[name] !== 'function') target[name] = method;
	return store;
}
