// The malformed flood's attackers as their own process: argv tcpPort udpPort.
// Prints "tcpSent udpSent" lines as it goes, the last one when done.
import {attack} from './chaos/attacks.js';

const [tcpPort, udpPort] = process.argv.slice(2).map(Number);
const totals = await attack(tcpPort!, udpPort!, (tcp, udp) => process.stdout.write(`${tcp} ${udp}\n`));
process.stdout.write(`${totals.tcpSent} ${totals.udpSent}\n`);
