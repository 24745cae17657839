// What a failed connection says to the user: Node's system errors
// ("getaddrinfo ENOTFOUND nosuchhost.invalid", "connect ECONNREFUSED …") in
// words, for every transport. Codes not listed keep Node's message.

type SystemError = Error & {code?: unknown; hostname?: unknown; address?: unknown; port?: unknown};

/** One sentence for a network error; `host` names the server when the error does not. */
export function describeNetworkError(error: unknown, host?: string): string {
	if (!(error instanceof Error)) return String(error);
	const {code, hostname} = error as SystemError;
	const name = typeof hostname === 'string' && hostname !== '' ? hostname : host;
	const at = name === undefined ? '' : ` ${name}`;
	switch (code) {
		case 'ENOTFOUND':
			return `no such host${at}`;
		case 'EAI_AGAIN':
			return `cannot look up${at}: the name server did not answer (offline?)`;
		case 'ECONNREFUSED':
			return 'connection refused (no server at that address)';
		case 'ECONNRESET':
			return 'connection reset';
		case 'EPIPE':
			return 'connection closed';
		case 'ETIMEDOUT':
			return 'timed out';
		case 'EHOSTUNREACH':
		case 'EHOSTDOWN':
			return `host${at} unreachable`;
		case 'ENETUNREACH':
		case 'ENETDOWN':
			return 'network unreachable (offline?)';
		case 'EADDRNOTAVAIL':
			return `address${at} not available on this machine`;
		case 'EACCES':
		case 'EPERM':
			return 'not permitted (a firewall?)';
		default:
			return error.message;
	}
}
