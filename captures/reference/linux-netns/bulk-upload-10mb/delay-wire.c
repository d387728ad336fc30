/* A wire with a fixed one-way delay between two TAP devices, for a kernel without sch_netem: every Ethernet
 * frame read from one device is written to the other DELAY_US microseconds later, in order (ARP included).
 * Usage: delay-wire TAP_A TAP_B DELAY_US  (creates both devices; prints "ready" when they exist; runs until
 * killed). Built and run by make-capture.sh. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 32768
#define FRAME 2048

struct queue { int head, tail; int64_t due[SLOTS]; int len[SLOTS]; unsigned char data[SLOTS][FRAME]; };
static struct queue q[2];

static int64_t now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int open_tap(const char *name) {
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
    if (fd < 0) { perror("open /dev/net/tun"); exit(1); }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) { perror("TUNSETIFF"); exit(1); }
    return fd;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: delay-wire TAP_A TAP_B DELAY_US\n"); return 2; }
    int64_t delay = atoll(argv[3]);
    int fd[2] = { open_tap(argv[1]), open_tap(argv[2]) };
    prctl(PR_SET_TIMERSLACK, 1UL);
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        int64_t t = now_us();
        int64_t next = -1;
        for (int d = 0; d < 2; d++) {  /* queue d: frames read from fd[d], written to fd[1-d] */
            struct queue *x = &q[d];
            while (x->head != x->tail && x->due[x->head] <= t) {
                if (write(fd[1 - d], x->data[x->head], x->len[x->head]) < 0 && errno == EAGAIN) break;
                x->head = (x->head + 1) % SLOTS;
            }
            if (x->head != x->tail && (next < 0 || x->due[x->head] < next)) next = x->due[x->head];
        }
        struct pollfd p[2] = { { fd[0], POLLIN, 0 }, { fd[1], POLLIN, 0 } };
        struct timespec ts, *tp = NULL;
        if (next >= 0) {
            int64_t w = next - t;
            if (w < 0) w = 0;
            ts.tv_sec = w / 1000000;
            ts.tv_nsec = (w % 1000000) * 1000;
            tp = &ts;
        }
        if (ppoll(p, 2, tp, NULL) < 0 && errno != EINTR) { perror("ppoll"); return 1; }
        for (int d = 0; d < 2; d++) {
            if (!(p[d].revents & POLLIN)) continue;
            struct queue *x = &q[d];
            for (;;) {
                int n = (x->tail + 1) % SLOTS;
                if (n == x->head) break;  /* full: leave the rest in the device's queue */
                ssize_t r = read(fd[d], x->data[x->tail], FRAME);
                if (r <= 0) break;
                x->len[x->tail] = (int)r;
                x->due[x->tail] = now_us() + delay;
                x->tail = n;
            }
        }
    }
}
