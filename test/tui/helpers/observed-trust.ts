// TEST ONLY: a HostTrustPrompter that tells whether the UI has registered its
// handler, so a test waits for the registration instead of sleeping through the effect.
import {HostTrustPrompter, type TrustHandler} from '../../../source/client/host-trust.js';

export class ObservedTrustPrompter extends HostTrustPrompter {
	registered = false;

	override setHandler(handler: TrustHandler): () => void {
		const unregister = super.setHandler(handler);
		this.registered = true;
		return () => {
			this.registered = false;
			unregister();
		};
	}
}
