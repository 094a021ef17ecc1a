/*
 * The one piece of networking the shim does itself: a new network namespace
 * starts with `lo` down, and containers (Docker's included) expect it up.
 * Everything else — veths, addresses, routes — is the network plugin's.
 */
#include "moor_net.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "moor_util.h"

int moor_net_loopback_up(moor_err_t *err)
{
    int fd moor_cleanup_close = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return moor_fail_errno(err, "socket to configure the loopback interface");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        return moor_fail_errno(err, "read the flags of interface lo");
    if (ifr.ifr_flags & IFF_UP)
        return 0;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
        return moor_fail_errno(err, "bring interface lo up");
    return 0;
}
