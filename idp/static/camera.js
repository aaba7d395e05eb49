// Progressive enhancement for the face-photo field: where the browser has a camera, offer to
// take the photo here and put it into the file field; without JavaScript the field still works.
(function () {
  var start = document.getElementById("camera-start");
  var box = document.getElementById("camera");
  var form = document.getElementById("real-person");
  if (!start || !box || !form || !navigator.mediaDevices || !window.DataTransfer) return;
  var input = form.querySelector("input[type=file]");
  var video = document.getElementById("camera-view");
  start.hidden = false;
  start.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" } }).then(function (stream) {
      video.srcObject = stream;
      box.hidden = false;
      start.hidden = true;
    }).catch(function () { start.hidden = true; });
  });
  document.getElementById("camera-take").addEventListener("click", function () {
    var canvas = document.createElement("canvas");
    canvas.width = video.videoWidth || 640;
    canvas.height = video.videoHeight || 480;
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      var files = new DataTransfer();
      files.items.add(new File([blob], "camera.jpg", { type: "image/jpeg" }));
      input.files = files.files;
      (video.srcObject && video.srcObject.getTracks() || []).forEach(function (t) { t.stop(); });
      box.hidden = true;
    }, "image/jpeg", 0.9);
  });
})();
