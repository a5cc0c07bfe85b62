// Before any suite: a running libvirtd and the test guest's image, so no QEMU suite skips itself
// for want of them (a skipped suite would hide a regression).
import { ensureGuestImage, ensureLibvirtd } from './guest/qemu-guest.js';

export default async function setup() {
  await ensureGuestImage();
  await ensureLibvirtd();
}
