/**
 * Each drive command is its own HTTP request, and nothing between the browser and the robot keeps their
 * order (the browser's connections, the server, the board's): a held key's last repeat, still on its way,
 * can reach the robot after the stop that followed it, and the robot drives on. Here stop has the last
 * word: a stop sent while moves are in flight is sent again once they have all been answered (each answer
 * means the robot has it), unless a new move began in between.
 */
export function stopLast<Move>(send: (move: Move) => Promise<unknown>, sendStop: () => Promise<unknown>) {
  const inFlight = new Set<Promise<unknown>>();
  let latest = 0;

  const move = (command: Move) => {
    latest += 1;
    const sent = send(command).catch(() => undefined);
    inFlight.add(sent);
    void sent.then(() => inFlight.delete(sent));
  };

  const stop = () => {
    const overtaken = [...inFlight];
    const at = ++latest;
    void sendStop().catch(() => undefined);
    if (overtaken.length === 0) return;
    void Promise.all(overtaken).then(() => {
      if (latest === at) void sendStop().catch(() => undefined);
    });
  };

  return { move, stop };
}
