// The account store as `parley user` and `parley token` use it: opened for
// one change, errors turned into the command's exit status, closed after.

import type {AccountStore} from '../../server/store/account-store.js';
import {openStore, StoreConfigError, StoreOpenError} from '../../server/store/open-store.js';

export interface AdminStoreOptions {
	db: string | undefined;
	dataDir: string;
	stderr: NodeJS.WritableStream;
	/** Reports an error and gives the command's exit status. */
	fail: (error: unknown) => number;
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

/**
 * The `fail` of an admin command: writes what `classify` makes of an error as
 * one `parley: …` line on stderr and gives its exit status.
 */
export function failureReporter(
	stderr: NodeJS.WritableStream,
	classify: (error: unknown) => {code: number; message: string},
): (error: unknown) => number {
	return (error) => {
		const {code, message} = classify(error);
		stderr.write(`parley: ${oneLine(message)}\n`);
		return code;
	};
}

/** Opens the store, runs `perform` on it and closes it; 0 on success, else what `fail` says. */
export async function withAdminStore(
	{db, dataDir, stderr, fail}: AdminStoreOptions,
	perform: (store: AccountStore) => Promise<void>,
): Promise<number> {
	let store: AccountStore;
	try {
		store = await openStore({
			...(db === undefined ? {} : {db}),
			dataDir,
			log: (line) => stderr.write(`parley: ${line}\n`),
		});
	} catch (error) {
		if (error instanceof StoreConfigError || error instanceof StoreOpenError) return fail(error);
		const message = error instanceof Error ? error.message : String(error);
		return fail(new StoreOpenError(`cannot open the account store in ${dataDir}: ${message}`));
	}
	try {
		await perform(store);
		return 0;
	} catch (error) {
		return fail(error);
	} finally {
		try {
			await store.close();
		} catch (error) {
			// A close failure after a successful change is worth a line but not a different outcome.
			stderr.write(
				`parley: closing the account store failed: ${oneLine(error instanceof Error ? error.message : String(error))}\n`,
			);
		}
	}
}
