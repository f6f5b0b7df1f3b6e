// Preloaded (-r) into CLI runs by the fuzz harness: reports the process's peak memory on exit.
process.on('exit', () => {
  process.stderr.write(`\nQATFUZZ_MAXRSS_KB=${process.resourceUsage().maxRSS}\n`);
});
