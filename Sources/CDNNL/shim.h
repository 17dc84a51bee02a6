// Private shim: oneDNN's C API (Debian's libdnnl-dev), used only by Sources/Backprop/Backend.
#include <oneapi/dnnl/dnnl.h>
