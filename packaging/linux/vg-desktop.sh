#!/bin/sh
# /usr/bin/vg-desktop: starts Vanishing Gradient Lab, whose self-contained bundle (its own Python,
# NumPy and Qt) is installed in /opt/vg-desktop.
exec /opt/vg-desktop/vg-desktop "$@"
