#ifndef VPCSIM_CZLIB_SHIM_H
#define VPCSIM_CZLIB_SHIM_H
/* zlib, for reading gzip-compressed flow logs (Sources/Sim/Replay/FlowLogStream.swift). */
#include <zlib.h>
#endif
