/* Stand-ins for the backends a build leaves out: opening them says so. The build defines
 * DRF_HAVE_SIM / DRF_HAVE_USB when it links driver/transport_sim.c / transport_usb.c. */
#include <stdio.h>

#include "transport.h"

#ifndef DRF_HAVE_SIM
int drf_transport_sim_open(const char *args, drf_transport **out, char *err, size_t errlen)
{
    (void)args;
    *out = NULL;
    snprintf(err, errlen,
             "sim: backend not built into this program (it needs the Verilated device: "
             "use build/dorefa-sim or link driver/transport_sim.c with sim/drf_dev.cpp)");
    return DOREFA_E_UNSUPPORTED;
}
#endif

#ifndef DRF_HAVE_USB
int drf_transport_usb_open(const char *args, drf_transport **out, char *err, size_t errlen)
{
    (void)args;
    *out = NULL;
    snprintf(err, errlen,
             "usb: backend not built into this library (libusb-1.0 was not found at build time, "
             "or driver/transport_usb.c is missing)");
    return DOREFA_E_UNSUPPORTED;
}
#endif

#if defined(DRF_HAVE_SIM) && defined(DRF_HAVE_USB)
/* ISO C wants a translation unit to declare something. */
typedef int drf_transport_stubs_unused;
#endif
