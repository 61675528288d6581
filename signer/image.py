"""Signature and seal images: checked once (PNG with an alpha channel), encoded once, embedded per document.

DOMAIN.md, Decree 30 Appendix I: the handwritten signature is a blue transparent PNG, the seal a red
transparent PNG drawn at its real size. An image without transparency would hide the text under it, so it
is refused. The pixels are compressed once when the image is loaded; each document then only receives the
prebuilt streams (DESIGN.md pitfall: load fonts and images once).
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from signer.errors import ImageError

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PIXELS = 4000 * 4000


@dataclass(frozen=True)
class StampImage:
    """A transparent PNG ready to embed: RGB and alpha planes, zlib-compressed."""

    width: int
    height: int
    rgb: bytes
    alpha: bytes
    dpi: float | None  # from the PNG pHYs chunk, when present

    @classmethod
    def from_png(cls, data: bytes, *, role: str = "image") -> "StampImage":
        """Check and load a PNG; `role` names the image in errors ("seal", "signature")."""
        if not data.startswith(_PNG_MAGIC):
            kind = "JPEG" if data[:3] == b"\xff\xd8\xff" else "không phải PNG / not a PNG"
            raise ImageError(
                f"ảnh {role} phải là PNG có nền trong suốt, tệp này là {kind} / "
                f"the {role} image must be a PNG with transparency, this file is {kind}"
            )
        try:
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise ImageError(
                    f"ảnh {role} quá lớn ({image.width}x{image.height}) / "
                    f"the {role} image is too large ({image.width}x{image.height})"
                )
            image.load()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ImageError(f"ảnh {role} PNG bị hỏng / the {role} PNG is broken: {exc}") from exc
        has_alpha = image.mode in ("RGBA", "LA", "PA") or (
            image.mode in ("P", "RGB", "L") and "transparency" in image.info
        )
        if not has_alpha:
            raise ImageError(
                f"ảnh {role} PNG không có kênh trong suốt (alpha) / the {role} PNG has no alpha channel"
            )
        rgba = image.convert("RGBA")
        if rgba.getchannel("A").getextrema() == (255, 255):
            raise ImageError(
                f"ảnh {role} PNG hoàn toàn không trong suốt / the {role} PNG is fully opaque"
            )
        dpi = image.info.get("dpi")
        return cls(
            width=rgba.width,
            height=rgba.height,
            rgb=zlib.compress(rgba.convert("RGB").tobytes(), 6),
            alpha=zlib.compress(rgba.getchannel("A").tobytes(), 6),
            dpi=float(dpi[0]) if dpi and dpi[0] else None,
        )

    def size_mm(self) -> tuple[float, float] | None:
        """The printed size the PNG declares (pHYs), or None when it declares none."""
        if not self.dpi:
            return None
        return self.width / self.dpi * 25.4, self.height / self.dpi * 25.4

    def add_to(self, writer) -> generic.IndirectObject:
        """Add the image XObject (with its soft mask) to a pyHanko writer."""
        common = {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Image"),
            pdf_name("/Width"): generic.NumberObject(self.width),
            pdf_name("/Height"): generic.NumberObject(self.height),
            pdf_name("/BitsPerComponent"): generic.NumberObject(8),
            pdf_name("/Filter"): pdf_name("/FlateDecode"),
        }
        mask = generic.StreamObject(
            {**common, pdf_name("/ColorSpace"): pdf_name("/DeviceGray")}, encoded_data=self.alpha
        )
        image = generic.StreamObject(
            {**common, pdf_name("/ColorSpace"): pdf_name("/DeviceRGB"),
             pdf_name("/SMask"): writer.add_object(mask)},
            encoded_data=self.rgb,
        )
        return writer.add_object(image)
