// What a room's store holds of its chat: version 2 keeps presence (joins,
// leaves, moderation) in the same log, which tests about messages leave out.
import type {AccountStore, StoredRoomMessage} from '../../server/store/account-store.js';

export async function storedChat(store: AccountStore, room: string, after = 0): Promise<StoredRoomMessage[]> {
	return (await store.messagesAfter(room, after, 1000)).filter((message) => message.presence === undefined);
}
