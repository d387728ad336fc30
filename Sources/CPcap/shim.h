#ifndef VPCSIM_CPCAP_SHIM_H
#define VPCSIM_CPCAP_SHIM_H
#include <pcap/pcap.h>
#if defined(__has_include)
#if __has_include(<stdio_ext.h>)
/* __fsetlocking: a pcap's stream is used by one thread at a time (see Libpcap.swift). */
#include <stdio_ext.h>
#endif
#endif
#endif
