/* Entry point of the moor-shim binary: `moor-shim start|spec|version ...`. */
#ifndef MOOR_SHIM_H
#define MOOR_SHIM_H

#define MOOR_SHIM_VERSION "0.1.0"

int moor_shim_main(int argc, char **argv);

#endif
