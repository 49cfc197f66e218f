#!/bin/sh
# meshdns launcher: Debian's (or the distribution's) Node.js runs the bundled program.
exec /usr/bin/node /usr/lib/meshdns/bin/meshdns.js "$@"
