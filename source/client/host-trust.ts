// Trust on first use: when a TCP room's certificate is new to us, someone has
// to decide. The transport asks through this; the TUI (or a flag) answers.

export interface TrustRequest {
	hostPort: string;
	fingerprint: string;
}

export type TrustHandler = (request: TrustRequest) => Promise<boolean>;

export class HostTrustPrompter {
	private handler: TrustHandler | undefined;

	/** The UI registers while it can ask; returns the function that unregisters. */
	setHandler(handler: TrustHandler): () => void {
		this.handler = handler;
		return () => {
			if (this.handler === handler) this.handler = undefined;
		};
	}

	/** Nobody to ask means no: an unattended client never trusts a new key silently. */
	ask = (hostPort: string, fingerprint: string): Promise<boolean> =>
		this.handler ? this.handler({hostPort, fingerprint}) : Promise.resolve(false);
}
