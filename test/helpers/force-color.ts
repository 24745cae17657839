// TEST ONLY: import first. Test workers write to pipes, so chalk would drop
// colours; tests that check a colour (an error in red) need them kept.
process.env.FORCE_COLOR = '1';
