// Preloaded (`node --import`) into every process the bench starts: when the bench is gone (crashed,
// killed, or it gave up on a child that never became ready), the child ends itself with SIGTERM, so its
// own shutdown runs (the devchain stops anvil). Plain JavaScript: it loads before tsx does.
const parent = process.ppid;

setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch (error) {
    if (error.code === "ESRCH") process.kill(process.pid, "SIGTERM");
  }
}, 250).unref();
