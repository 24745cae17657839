// Certificate fingerprints in the form users compare by eye and clients pin
// on first use. Shared by the server (which prints its own) and the client
// (which checks the one it is shown).

import {X509Certificate, createHash} from 'node:crypto';

/** "SHA256:<base64>" of the DER certificate, the form ssh users recognise. Accepts PEM or DER. */
export function fingerprintOf(certificate: string | Buffer | X509Certificate): string {
	const x509 = certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate);
	return `SHA256:${createHash('sha256').update(x509.raw).digest('base64').replace(/=+$/, '')}`;
}
