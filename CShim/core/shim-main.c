/* `moor-shim` command line: start a container, print the default spec. */
#include "moor_shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "moor_protocol.h"
#include "moor_spec.h"
#include "shim-internal.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: moor-shim start --id ID --bundle DIR --state-dir DIR [options]\n"
            "       moor-shim spec [--cap-add CAP]... [--cap-drop CAP]... [--privileged]\n"
            "                      [--no-seccomp]\n"
            "                      print a default config.json (Docker's defaults)\n"
            "       moor-shim version\n"
            "start options:\n"
            "  --socket PATH        control socket (default STATE_DIR/shim.sock)\n"
            "  --spool-dir DIR      output spool (default STATE_DIR/spool)\n"
            "  --spool-max BYTES    spool bound (default 1 GiB)\n"
            "  --lower DIR          overlay lower layer, top-most first (repeatable)\n"
            "  --upper DIR --work DIR  overlay upper and work directories\n"
            "  --stdin              keep a stdin pipe fed through the control socket\n"
            "  --shim-cgroup PATH   the shim's own cgroup (default /moor-shims/ID)\n"
            "  --seccomp-cache DIR  keep compiled seccomp filters here (faster starts)\n");
}

/* One --cap-add/--cap-drop value: a capability or "ALL", as Docker takes them. */
static int spec_cap(const char *flag, const char *value, uint64_t *mask, bool *all)
{
    if (value == NULL) {
        fprintf(stderr, "moor-shim spec: %s needs a capability\n", flag);
        return -1;
    }
    if (strcasecmp(value, "ALL") == 0) {
        *all = true;
        return 0;
    }
    int cap = moor_spec_cap_from_flag(value);
    if (cap < 0) {
        fprintf(stderr, "moor-shim spec: %s: unknown capability \"%s\"\n", flag, value);
        return -1;
    }
    *mask |= 1ull << cap;
    return 0;
}

static int parse_spec_args(int argc, char **argv, moor_spec_options_t *opt)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int ret = 0;
        if (strcmp(a, "--cap-add") == 0) {
            ret = spec_cap(a, argv[i + 1], &opt->cap_add, &opt->cap_add_all);
            i++;
        } else if (strcmp(a, "--cap-drop") == 0) {
            ret = spec_cap(a, argv[i + 1], &opt->cap_drop, &opt->cap_drop_all);
            i++;
        } else if (strcmp(a, "--privileged") == 0)
            opt->privileged = true;
        else if (strcmp(a, "--no-seccomp") == 0)
            opt->no_seccomp = true;
        else {
            fprintf(stderr, "moor-shim spec: unknown option \"%s\"\n", a);
            ret = -1;
        }
        if (ret < 0)
            return ret;
    }
    return 0;
}

static int cmd_spec(int argc, char **argv)
{
    moor_spec_options_t opt = {0};
    if (parse_spec_args(argc, argv, &opt) < 0) {
        usage(stderr);
        return 2;
    }
    moor_err_t err = {0};
    char *json = NULL;
    if (moor_spec_build(&opt, &json, &err) < 0) {
        fprintf(stderr, "moor-shim: %s\n", err.msg);
        return 1;
    }
    fputs(json, stdout);
    fputc('\n', stdout);
    free(json);
    return 0;
}

int moor_shim_main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "start") == 0)
        return shim_cmd_start(argc - 1, argv + 1);
    if (strcmp(cmd, "spec") == 0)
        return cmd_spec(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0) {
        printf("moor-shim %s protocol %d.%d\n", MOOR_SHIM_VERSION, MOOR_PROTO_MAJOR,
               MOOR_PROTO_MINOR);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "moor-shim: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
