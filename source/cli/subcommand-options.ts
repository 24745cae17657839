// meow settings shared by the subcommands that answer --help and unknown flags
// themselves, in Parley's words and with Parley's exit codes, instead of
// letting meow print and exit.
export const SELF_REPORTING = {
	autoHelp: false,
	autoVersion: false,
	description: false,
	allowUnknownFlags: true,
} as const;
