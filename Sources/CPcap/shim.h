#ifndef VPCSIM_CPCAP_SHIM_H
#define VPCSIM_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
