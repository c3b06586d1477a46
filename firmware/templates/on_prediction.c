/* The application: tinyflow_on_prediction() is called after every window the model classifies
 * (sensor -> front end -> model; tinyflow/app.h lists what a prediction holds: the class index,
 * its confidence, the time of the window and what each stage took, the raw output).
 *
 * It runs inside the device loop, between link polls: keep it short, and do not print to the
 * serial port, which carries the tinyflow link (`tinyflow classify --target PORT` shows the same
 * predictions live). Edit freely: `tinyflow firmware generate` never rewrites this file. */
#include "tinyflow/app.h"

#if defined(ARDUINO)
#include <Arduino.h>
#else
#include <stdio.h>
#endif

/* A detection: a confident prediction of any class but the background one (e.g. silence). */
#define BACKGROUND_CLASS 0u
#define DETECT_CONFIDENCE 0.8f

void tinyflow_on_prediction(const tinyflow_prediction_t *p) {
  int detected = p->top1 != BACKGROUND_CLASS && p->confidence >= DETECT_CONFIDENCE;
#if defined(ARDUINO) && defined(LED_BUILTIN)
  static int led_ready = 0;
  if (!led_ready) {
    pinMode(LED_BUILTIN, OUTPUT);
    led_ready = 1;
  }
  digitalWrite(LED_BUILTIN, detected ? HIGH : LOW); /* the LED is lit while a class is detected */
#elif !defined(ARDUINO)
  /* The native env (this computer): stdout is the link, stderr is free. */
  fprintf(stderr, "prediction %lu: class %u, confidence %.2f%s\n", (unsigned long)p->index, (unsigned)p->top1,
          (double)p->confidence, detected ? " (detected)" : "");
#else
  (void)detected;
#endif
}
