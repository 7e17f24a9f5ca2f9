/*
 * clock.h - the two clocks and the one sleep every part of the core uses:
 * monotonic time for deadlines, backoff and token expiry; wall-clock time
 * only to read HTTP dates (Retry-After) and `expires_on`.
 */
#ifndef DBW_CLOCK_H
#define DBW_CLOCK_H

double dbw_now(void);       /* monotonic seconds */
double dbw_epoch_now(void); /* wall-clock seconds */
void dbw_sleep(double seconds);

#endif
