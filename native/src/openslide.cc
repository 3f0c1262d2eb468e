// OpenSlide, bound thinly: open/close a slide, its levels, properties and associated images, and
// read a region as RGBA bytes. Validation and the slide API live in src/slides/.
// An addon of its own (mmfd_openslide.node), loaded only when a slide is read, so that the tensor
// addon and `import { torch }` work on a machine without libopenslide (a GPU training box).
#include <napi.h>
#include <openslide/openslide.h>

#include <cstring>

namespace mmfd {
namespace {

const napi_type_tag kSlideTag = {0x6d6d6664'736c'6964ULL, 0x6500'0000'0000'0001ULL};

struct Slide {
  openslide_t* osr = nullptr;
  ~Slide() {
    if (osr) openslide_close(osr);
  }
};

Slide& unwrapSlide(const Napi::Value& v) {
  if (!v.IsExternal() || !v.As<Napi::External<Slide>>().CheckTypeTag(&kSlideTag)) {
    throw Napi::TypeError::New(v.Env(), "expected a slide handle");
  }
  auto* s = v.As<Napi::External<Slide>>().Data();
  if (s->osr == nullptr) throw Napi::Error::New(v.Env(), "the slide was closed");
  return *s;
}

// OpenSlide reports errors by putting the handle in an error state; surface that as a JS error.
void check(Napi::Env env, openslide_t* osr) {
  if (const char* err = openslide_get_error(osr)) throw Napi::Error::New(env, err);
}

// ARGB premultiplied (native-endian uint32) -> straight RGBA bytes.
void argbToRgba(const uint32_t* src, uint8_t* dst, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t p = src[i];
    uint32_t a = p >> 24;
    uint32_t r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
    if (a != 0 && a != 255) {
      r = r * 255 / a;
      g = g * 255 / a;
      b = b * 255 / a;
    }
    dst[4 * i] = static_cast<uint8_t>(r);
    dst[4 * i + 1] = static_cast<uint8_t>(g);
    dst[4 * i + 2] = static_cast<uint8_t>(b);
    dst[4 * i + 3] = static_cast<uint8_t>(a);
  }
}

// detectVendor(path) -> vendor string or null (null: OpenSlide cannot read the file).
Napi::Value DetectVendor(const Napi::CallbackInfo& info) {
  const char* v = openslide_detect_vendor(info[0].As<Napi::String>().Utf8Value().c_str());
  return v ? Napi::String::New(info.Env(), v) : info.Env().Null();
}

// open(path) -> slide handle. Throws with OpenSlide's message when the file is unsupported or broken.
Napi::Value Open(const Napi::CallbackInfo& info) {
  auto path = info[0].As<Napi::String>().Utf8Value();
  openslide_t* osr = openslide_open(path.c_str());
  if (osr == nullptr) throw Napi::Error::New(info.Env(), "not a format OpenSlide recognises");
  if (const char* err = openslide_get_error(osr)) {
    std::string msg(err);
    openslide_close(osr);
    throw Napi::Error::New(info.Env(), msg);
  }
  auto ext = Napi::External<Slide>::New(info.Env(), new Slide{osr}, [](Napi::Env, Slide* s) { delete s; });
  ext.TypeTag(&kSlideTag);
  return ext;
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  if (info[0].IsExternal() && info[0].As<Napi::External<Slide>>().CheckTypeTag(&kSlideTag)) {
    auto* s = info[0].As<Napi::External<Slide>>().Data();
    if (s->osr) openslide_close(s->osr);
    s->osr = nullptr;
  }
  return info.Env().Undefined();
}

// levels(slide) -> [[width, height, downsample], ...]
Napi::Value Levels(const Napi::CallbackInfo& info) {
  auto& s = unwrapSlide(info[0]);
  auto env = info.Env();
  int32_t n = openslide_get_level_count(s.osr);
  check(env, s.osr);
  auto out = Napi::Array::New(env, n);
  for (int32_t i = 0; i < n; i++) {
    int64_t w = 0, h = 0;
    openslide_get_level_dimensions(s.osr, i, &w, &h);
    auto level = Napi::Array::New(env, 3);
    level.Set(0u, Napi::Number::New(env, static_cast<double>(w)));
    level.Set(1u, Napi::Number::New(env, static_cast<double>(h)));
    level.Set(2u, Napi::Number::New(env, openslide_get_level_downsample(s.osr, i)));
    out.Set(static_cast<uint32_t>(i), level);
  }
  check(env, s.osr);
  return out;
}

Napi::Value Properties(const Napi::CallbackInfo& info) {
  auto& s = unwrapSlide(info[0]);
  auto out = Napi::Object::New(info.Env());
  for (const char* const* name = openslide_get_property_names(s.osr); name && *name; name++) {
    const char* value = openslide_get_property_value(s.osr, *name);
    out.Set(*name, value ? Napi::String::New(info.Env(), value) : info.Env().Null());
  }
  check(info.Env(), s.osr);
  return out;
}

// readRegion(slide, x0, y0, level, w, h) -> Uint8Array RGBA (x0, y0 in level-0 coordinates).
Napi::Value ReadRegion(const Napi::CallbackInfo& info) {
  auto& s = unwrapSlide(info[0]);
  auto env = info.Env();
  int64_t x = info[1].As<Napi::Number>().Int64Value();
  int64_t y = info[2].As<Napi::Number>().Int64Value();
  int32_t level = info[3].As<Napi::Number>().Int32Value();
  int64_t w = info[4].As<Napi::Number>().Int64Value();
  int64_t h = info[5].As<Napi::Number>().Int64Value();
  std::vector<uint32_t> argb(static_cast<size_t>(w * h));
  openslide_read_region(s.osr, argb.data(), x, y, level, w, h);
  check(env, s.osr);
  auto out = Napi::Uint8Array::New(env, static_cast<size_t>(w * h * 4));
  argbToRgba(argb.data(), out.Data(), argb.size());
  return out;
}

// associatedImages(slide) -> { name: [width, height] }
Napi::Value AssociatedImages(const Napi::CallbackInfo& info) {
  auto& s = unwrapSlide(info[0]);
  auto out = Napi::Object::New(info.Env());
  for (const char* const* name = openslide_get_associated_image_names(s.osr); name && *name; name++) {
    int64_t w = 0, h = 0;
    openslide_get_associated_image_dimensions(s.osr, *name, &w, &h);
    auto dims = Napi::Array::New(info.Env(), 2);
    dims.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(w)));
    dims.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(h)));
    out.Set(*name, dims);
  }
  check(info.Env(), s.osr);
  return out;
}

// readAssociatedImage(slide, name) -> Uint8Array RGBA
Napi::Value ReadAssociatedImage(const Napi::CallbackInfo& info) {
  auto& s = unwrapSlide(info[0]);
  auto name = info[1].As<Napi::String>().Utf8Value();
  int64_t w = 0, h = 0;
  openslide_get_associated_image_dimensions(s.osr, name.c_str(), &w, &h);
  if (w <= 0 || h <= 0) throw Napi::Error::New(info.Env(), "no associated image '" + name + "'");
  std::vector<uint32_t> argb(static_cast<size_t>(w * h));
  openslide_read_associated_image(s.osr, name.c_str(), argb.data());
  check(info.Env(), s.osr);
  auto out = Napi::Uint8Array::New(info.Env(), static_cast<size_t>(w * h * 4));
  argbToRgba(argb.data(), out.Data(), argb.size());
  return out;
}

Napi::Value Version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), openslide_get_version()); }

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object os) {
  os.Set("detectVendor", Napi::Function::New(env, DetectVendor));
  os.Set("open", Napi::Function::New(env, Open));
  os.Set("close", Napi::Function::New(env, Close));
  os.Set("levels", Napi::Function::New(env, Levels));
  os.Set("properties", Napi::Function::New(env, Properties));
  os.Set("readRegion", Napi::Function::New(env, ReadRegion));
  os.Set("associatedImages", Napi::Function::New(env, AssociatedImages));
  os.Set("readAssociatedImage", Napi::Function::New(env, ReadAssociatedImage));
  os.Set("version", Napi::Function::New(env, Version));
  return os;
}

}  // namespace mmfd

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return mmfd::Init(env, exports); }

NODE_API_MODULE(mmfd_openslide, InitAddon)
